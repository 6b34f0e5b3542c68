"""Who a guardian is, to the staff following a broadcast: their children with school, grade and
class, their name, and — to the staff of a child's school only — how to reach them by hand.

There are no telephone numbers in Mimamori: "how to reach" is the guardian's registered addresses.
A mail address is shown whole (staff can write from the school's own mail); a chat only by its
app and state, since a chat's id means nothing to a person. Names and addresses are sealed at rest
and read here for the page alone; nothing of them is logged.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from core.broadcasts.reasons import STOPPED
from core.broadcasts.scope import Target
from core.channels import spec
from core.channels.spec import not_shown
from core.i18n import Message, _
from core.models import AddressStatus, Channel, ContactAddress, Guardian, StaffAccount, StaffRole


@dataclass(frozen=True)
class Child:
    name: str
    school_id: int
    school: str
    grade: int
    class_name: str

    def label(self) -> Message | str:
        """``みどり小学校 3年2組``, as the school says it."""
        return Target(self.school_id, self.school, self.grade, self.class_name).label()


@dataclass(frozen=True)
class Reachable:
    """One registered address, as staff may use it by hand."""

    channel: Channel
    shown: str  # a mail address in full; "" for a chat
    state: Message | None  # why broadcasts do not reach it now, if they do not


@dataclass(frozen=True)
class Person:
    guardian_id: int
    login_id: str
    name: str
    children: tuple[Child, ...]
    addresses: tuple[Reachable, ...] | None  # None: not this viewer's to see (not their school)


_STATES: dict[AddressStatus, Message] = {
    AddressStatus.FAILING: _("failing: mail or messages to it keep being refused"),
    AddressStatus.INACTIVE: _("inactive: the app was blocked or left"),
    AddressStatus.PENDING: _("not confirmed yet"),
}


async def people(guardian_ids: Iterable[int], *, viewer: StaffAccount | None) -> dict[int, Person]:
    """Each guardian's ``Person``; their addresses only when ``viewer`` is staff of a child's school."""
    ids = list(dict.fromkeys(guardian_ids))
    if not ids:
        return {}
    own = await _own_site_ids(viewer)
    guardians = await Guardian.filter(id__in=ids).only("id", "login_id", "name").prefetch_related("pupils__school")
    addresses: dict[int, list[ContactAddress]] = {}
    for address in await ContactAddress.filter(guardian_id__in=ids).order_by("guardian_id", "slot", "id"):
        addresses.setdefault(address.guardian_id, []).append(address)
    found = {}
    for guardian in guardians:
        children = tuple(
            Child(p.name, p.school_id, p.school.name, p.grade, p.class_name)
            for p in sorted(guardian.pupils, key=lambda p: (p.school_id, p.grade, p.class_name))
        )
        shown = any(child.school_id in own for child in children)
        found[guardian.id] = Person(
            guardian.id,
            guardian.login_id,
            guardian.name,
            children,
            tuple(_reachable(a) for a in addresses.get(guardian.id, [])) if shown else None,
        )
    return found


async def _own_site_ids(viewer: StaffAccount | None) -> Collection[int]:
    if viewer is None or viewer.role is not StaffRole.STAFF:
        return ()
    return {site.id for site in await viewer.sites.all()}


def _reachable(address: ContactAddress) -> Reachable:
    # A channel that never shows its addresses (a chat), or whose address means nothing to people
    # (a push subscription), is named by its app alone.
    facts = spec(address.channel)
    shown = "" if facts.mask is not_shown or not facts.readable else address.value
    state = STOPPED if address.broadcasts_stopped_at else _STATES.get(address.status)
    return Reachable(address.channel, shown, state)
