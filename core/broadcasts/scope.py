"""Who a broadcast reaches: its scope as typed, picked and stored, who may send to it, and the guardians in it.

Guardians with the broadcast service, linked to a pupil of a school in scope (optionally one
grade, or one class). A children's hall in scope reaches the guardians of pupils who passed
through it in the last ``HALL_PUPILS_DAYS`` days (halls have no roster). A scope is typed
(``parse_scope``: the command line, a chat, a mail) or picked from the sites, grades and classes
a staff member may send to (``scope_choices``, ``scope_from_choices``: the portal).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.expressions import Q

from core.accounts import site_named
from core.errors import UserError
from core.i18n import Message, _, _n
from core.i18n.messages import listing
from core.models import Guardian, Passage, Pupil, Site, SiteKind, StaffAccount, StaffRole

HALL_PUPILS_DAYS = 60
WHOLE_CITY = "all"  # as typed, and as the picker sends it
_SCOPE_ITEM = re.compile(r"(?P<site>[^:]+?)(?::(?P<grade>\d{1,2})(?:-(?P<class>.+))?)?")


@dataclass(frozen=True)
class Target:
    site_id: int
    site: str
    grade: int | None = None
    class_name: str | None = None

    def label(self) -> Message | str:
        if self.grade is None:
            return self.site
        if self.class_name is None:
            return _("%(site)s grade %(grade)d", site=self.site, grade=self.grade)
        return _(
            "%(site)s grade %(grade)d class %(class_name)s",
            site=self.site,
            grade=self.grade,
            class_name=self.class_name,
        )

    def text(self) -> str:
        """As it is typed: ``SITE``, ``SITE:GRADE``, ``SITE:GRADE-CLASS``."""
        grade = "" if self.grade is None else f":{self.grade}"
        return self.site + grade + ("" if self.class_name is None else f"-{self.class_name}")

    def covers(self, other: Target) -> bool:
        """Whether every pupil of ``other`` is in this target (a school covers its grades and classes)."""
        return (
            self.site_id == other.site_id
            and self.grade in (None, other.grade)
            and self.class_name in (None, other.class_name)
        )


@dataclass(frozen=True)
class Scope:
    targets: tuple[Target, ...] = ()  # empty: the whole city

    @classmethod
    def of(cls, targets: Iterable[Target]) -> Scope:
        """The targets without repeats and without those a wider one covers (a school and its 3年)."""
        unique = list(dict.fromkeys(targets))
        return cls(tuple(t for t in unique if not any(o != t and o.covers(t) for o in unique)))

    @property
    def whole_city(self) -> bool:
        return not self.targets

    def to_json(self) -> dict[str, Any]:
        if self.whole_city:
            return {"all": True}
        return {
            "targets": [
                {"site_id": t.site_id, "site": t.site, "grade": t.grade, "class": t.class_name} for t in self.targets
            ]
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scope:
        return cls(
            tuple(Target(t["site_id"], t["site"], t.get("grade"), t.get("class")) for t in data.get("targets", []))
        )

    def label(self) -> Message:
        return _("the whole city") if self.whole_city else listing(t.label() for t in self.targets)

    def text(self) -> str:
        """As it is typed (``parse_scope`` reads it back): the audit log keeps this."""
        return WHOLE_CITY if self.whole_city else ", ".join(t.text() for t in self.targets)


async def parse_scope(text: str) -> Scope:
    """``all``, or comma-separated ``SITE``, ``SITE:GRADE``, ``SITE:GRADE-CLASS`` (full-width ok)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if folded.casefold() in {WHOLE_CITY, "全市", "全体"}:
        return Scope()
    targets = []
    for item in (part.strip() for part in re.split(r"[,、]", folded)):
        match = _SCOPE_ITEM.fullmatch(item) if item else None
        if match is None:
            raise UserError(_("“%(item)s” is not SITE, SITE:GRADE or SITE:GRADE-CLASS.", item=item))
        site = await site_named(match["site"])
        grade = int(match["grade"]) if match["grade"] else None
        _check_grade(site, grade)
        targets.append(Target(site.id, site.name, grade, match["class"].strip() if match["class"] else None))
    if not targets:
        raise UserError(_("Say who it goes to: all, or a site."))
    return Scope.of(targets)


def _check_grade(site: Site, grade: int | None) -> None:
    if grade is not None and site.kind is SiteKind.HALL:
        raise UserError(_("%(site)s is a children's hall: it has no grades.", site=site.name))


# ---- the portal's picker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One box of the picker: what the form sends, and what it reads."""

    value: str  # WHOLE_CITY, or "SITE_ID", "SITE_ID:GRADE", "SITE_ID:GRADE:CLASS"
    label: Message | str


@dataclass(frozen=True)
class SiteChoices:
    site: Choice
    grades: tuple[tuple[Choice, tuple[Choice, ...]], ...] = ()  # each grade with its classes

    def narrowed(self, chosen: Collection[str]) -> bool:
        """Whether a grade or a class of this site is among ``chosen`` values."""
        return any(g.value in chosen or any(c.value in chosen for c in classes) for g, classes in self.grades)


@dataclass(frozen=True)
class ScopeChoices:
    whole_city: Choice | None  # administrators only
    sites: tuple[SiteChoices, ...]


async def scope_choices(staff: StaffAccount) -> ScopeChoices:
    """What ``staff`` may pick: their own sites (every site, and the whole city, for administrators),
    with the grades and classes the roster has at each school."""
    if staff.role is StaffRole.ADMIN:
        sites = await Site.all().order_by("name")
    elif staff.role is StaffRole.STAFF:
        sites = await staff.sites.all().order_by("name")
    else:
        sites = []
    classes: dict[int, dict[int, list[str]]] = {}
    rows = (
        await Pupil.filter(school_id__in=[s.id for s in sites] or [0])
        .distinct()
        .order_by("school_id", "grade", "class_name")
        .values_list("school_id", "grade", "class_name")
    )
    for site_id, grade, class_name in rows:
        classes.setdefault(site_id, {}).setdefault(grade, []).append(class_name)
    whole = Choice(WHOLE_CITY, _("the whole city")) if staff.role is StaffRole.ADMIN else None
    return ScopeChoices(whole, tuple(_site_choices(site, classes.get(site.id, {})) for site in sites))


def _site_choices(site: Site, grades: dict[int, list[str]]) -> SiteChoices:
    if site.kind is SiteKind.HALL:
        return SiteChoices(Choice(str(site.id), site.name))
    return SiteChoices(
        Choice(str(site.id), site.name),
        tuple(
            (
                Choice(f"{site.id}:{grade}", _("Grade %(grade)d", grade=grade)),
                tuple(
                    Choice(
                        f"{site.id}:{grade}:{name}", _("Class %(grade)d-%(class_name)s", grade=grade, class_name=name)
                    )
                    for name in names
                ),
            )
            for grade, names in grades.items()
        ),
    )


async def scope_from_choices(values: Sequence[str]) -> Scope:
    """The scope the boxes ticked on the portal's picker say (``Choice.value``s)."""
    if WHOLE_CITY in values:
        return Scope()
    sites = {s.id: s for s in await Site.filter(id__in=[_site_id(v) for v in values] or [0])}
    targets = []
    for value in values:
        site = sites.get(_site_id(value))
        if site is None:
            raise UserError(_("A site you chose no longer exists: choose again."))
        grade_text, class_name = (value.split(":", 2) + ["", ""])[1:3]
        grade = int(grade_text) if grade_text.isdecimal() and len(grade_text) <= 2 else None
        _check_grade(site, grade)
        targets.append(Target(site.id, site.name, grade, class_name if grade is not None and class_name else None))
    if not targets:
        raise UserError(_("Choose who it goes to."))
    return Scope.of(targets)


def _site_id(value: str) -> int:
    head = value.partition(":")[0]
    return int(head) if head.isdecimal() and len(head) < 10 else 0


# ---- who may send, and who is in it ---------------------------------------------------------------


async def check_scope_allowed(staff: StaffAccount, scope: Scope) -> None:
    """Administrators reach the whole city; staff only their own sites; the desk never."""
    if staff.role is StaffRole.ADMIN:
        return
    if staff.role is not StaffRole.STAFF:
        raise UserError(_("Only staff and administrators send broadcasts."))
    if scope.whole_city:
        raise UserError(_("Only administrators send to the whole city."))
    own = {site.id for site in await staff.sites.all()}
    outside = list(dict.fromkeys(t.site for t in scope.targets if t.site_id not in own))
    if outside:
        raise UserError(
            _n("%(sites)s is not your site.", "%(sites)s are not your sites.", len(outside), sites=listing(outside))
        )


async def may_see(staff: StaffAccount, scope: Scope) -> bool:
    """Admins see every broadcast, staff those they could have sent (``check_scope_allowed``'s rule)."""
    try:
        await check_scope_allowed(staff, scope)
    except UserError:
        return False
    return True


async def recipients(scope: Scope, *, after: int = 0, limit: int | None = None) -> list[int]:
    """Guardian ids in scope, ascending."""
    query = Guardian.filter(wants_broadcasts=True, id__gt=after)
    if not scope.whole_city:
        query = query.filter(await scope_filter(scope))
    query = query.distinct().order_by("id")
    if limit is not None:
        query = query.limit(limit)
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    return cast(list[int], await query.values_list("id", flat=True))


async def nobody_reason(scope: Scope) -> Message | None:
    """Why a broadcast to ``scope`` would reach nobody; None when it reaches someone."""
    if await recipients(scope, limit=1):
        return None
    if scope.whole_city:
        return _("Nobody in the city receives broadcasts yet.")
    if len(scope.targets) > 1:
        return _("Nobody in %(scope)s receives broadcasts.", scope=scope.label())
    target = scope.targets[0]
    if await Site.filter(id=target.site_id, kind=SiteKind.HALL).exists():
        return _n(
            "No pupil has passed through %(site)s in the last %(num)d day.",
            "No pupil has passed through %(site)s in the last %(num)d days.",
            HALL_PUPILS_DAYS,
            site=target.site,
        )
    if not await Pupil.filter(_target_filter(target, prefix="")).exists():
        return _("There is no pupil in %(target)s.", target=target.label())
    return _("No guardian of a pupil in %(target)s receives broadcasts.", target=target.label())


async def scope_filter(scope: Scope, *, prefix: str = "pupils__") -> Q:
    """The pupils ``scope`` names, as a filter on the model ``prefix`` leads from to ``Pupil``
    (guardians by default; ``""`` for pupils). A hall names the pupils seen there lately."""
    if scope.whole_city:
        return Q()
    halls = {s.id for s in await Site.filter(id__in=[t.site_id for t in scope.targets], kind=SiteKind.HALL)}
    conditions = []
    for target in scope.targets:
        if target.site_id in halls:
            since = datetime.now(UTC) - timedelta(days=HALL_PUPILS_DAYS)
            # Tortoise types a flat values_list as a list of tuples; it is a list of the values
            pupil_ids = cast(
                list[int],
                await Passage.filter(site_id=target.site_id, seen_at__gte=since, pupil_id__isnull=False)
                .distinct()
                .values_list("pupil_id", flat=True),
            )
            seen: dict[str, Any] = {f"{prefix}id__in": pupil_ids or [0]}
            conditions.append(Q(**seen))
            continue
        conditions.append(_target_filter(target, prefix=prefix))
    return Q(*conditions, join_type=Q.OR)


def _target_filter(target: Target, *, prefix: str) -> Q:
    """The pupils of a school's target (``prefix``: the path from the queried model to ``Pupil``)."""
    wanted: dict[str, Any] = {f"{prefix}school_id": target.site_id}
    if target.grade is not None:
        wanted[f"{prefix}grade"] = target.grade
    if target.class_name is not None:
        wanted[f"{prefix}class_name"] = target.class_name
    return Q(**wanted)


def pupil_filter(scope: Scope, *, site_id: int) -> Q | None:
    """The pupils of school ``site_id`` that ``scope`` names (a filter on ``Pupil``); None when it names none."""
    if scope.whole_city:
        return Q(school_id=site_id)
    found = [_target_filter(target, prefix="") for target in scope.targets if target.site_id == site_id]
    return Q(*found, join_type=Q.OR) if found else None
