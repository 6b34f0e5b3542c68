"""How the audit log names who did something: one spelling per kind of actor, and the filter that finds a person.

A staff member is ``staff:<login ID>``, followed by ``:<channel>`` when they acted through a bot or
by mail rather than on the portal; a guardian is ``guardian:<account id>`` (``:<channel>`` likewise);
a gate is ``gate:<id>``; work nobody asked for is ``system``. Entries written before this module
named staff by account id (``staff:<id>[:<channel>]``); they are hash-chained and stay as they
are, so :func:`matching` finds both spellings of one person.
"""

from __future__ import annotations

from tortoise.expressions import Q

from core.models import Channel, Gate, Guardian, StaffAccount

SYSTEM = "system"
STAFF = "staff"
GUARDIAN = "guardian"


def staff(account: StaffAccount, via: Channel | str | None = None) -> str:
    return _with_channel(f"{STAFF}:{account.login_id}", via)


def guardian(account: Guardian | int, via: Channel | str | None = None) -> str:
    """``account`` is the guardian or their account id (callers holding an address have only the id)."""
    return _with_channel(f"{GUARDIAN}:{account if isinstance(account, int) else account.id}", via)


def account(person: StaffAccount | Guardian, via: Channel | str | None = None) -> str:
    return staff(person, via) if isinstance(person, StaffAccount) else guardian(person, via)


def login_attempt(kind: str, login_id: str | None) -> str:
    """A login attempt is named by the ID typed (``?`` when no account has it: what was typed may be a password)."""
    return f"{kind}:{login_id or '?'}"


def gate(device: Gate) -> str:
    return f"gate:{device.id}"


def staff_or_system(account: StaffAccount | None, via: Channel | str | None = None) -> str:
    return staff(account, via) if account is not None else SYSTEM


def _with_channel(actor: str, via: Channel | str | None) -> str:
    if via is None:
        return actor
    return f"{actor}:{via.value if isinstance(via, Channel) else via}"


async def matching(typed: str) -> Q:
    """Entries whose actor is ``typed``, or, when it names a staff member or guardian, any spelling of that person."""
    typed = typed.strip()
    kind, _, rest = typed.partition(":")
    spellings = {typed} | await _spellings_of_person(kind, rest.split(":", 1)[0])
    return Q(
        *(Q(actor=s) | Q(actor__startswith=f"{s}:") for s in sorted(spellings)),
        join_type=Q.OR,
    )


async def _spellings_of_person(kind: str, name: str) -> set[str]:
    """Every way the log has named the person behind ``kind:name``: by login ID and by account id."""
    if not name or kind not in (STAFF, GUARDIAN):
        return set()
    model = StaffAccount if kind == STAFF else Guardian
    found = await model.get_or_none(login_id=name)
    if found is None and name.isdigit():
        found = await model.get_or_none(id=int(name))
    return {f"{kind}:{found.login_id}", f"{kind}:{found.id}"} if found is not None else set()
