"""Who a broadcast reaches: its scope as typed and stored, who may send to it, and the guardians in it.

Guardians with the broadcast service, linked to a pupil of a school in scope (optionally one
grade, or one class). A children's hall in scope reaches the guardians of pupils who passed
through it in the last ``HALL_PUPILS_DAYS`` days (halls have no roster).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.expressions import Q

from core.accounts import site_named
from core.errors import UserError
from core.models import Guardian, Passage, Site, SiteKind, StaffAccount, StaffRole

HALL_PUPILS_DAYS = 60
_SCOPE_ITEM = re.compile(r"(?P<site>[^:]+?)(?::(?P<grade>\d{1,2})(?:-(?P<class>.+))?)?")


@dataclass(frozen=True)
class Target:
    site_id: int
    site: str
    grade: int | None = None
    class_name: str | None = None

    def label(self) -> str:
        if self.grade is None:
            return self.site
        return f"{self.site} {self.grade}年" + (f"{self.class_name}組" if self.class_name else "")


@dataclass(frozen=True)
class Scope:
    targets: tuple[Target, ...] = ()  # empty: the whole city

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

    def label(self) -> str:
        return "全市 whole city" if self.whole_city else "、".join(t.label() for t in self.targets)


async def parse_scope(text: str) -> Scope:
    """``all``, or comma-separated ``SITE``, ``SITE:GRADE``, ``SITE:GRADE-CLASS`` (full-width ok)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if folded.casefold() in {"all", "全市", "全体"}:
        return Scope()
    targets = []
    for item in (part.strip() for part in re.split(r"[,、]", folded)):
        match = _SCOPE_ITEM.fullmatch(item) if item else None
        if match is None:
            raise UserError(f"scope {item!r} is not SITE, SITE:GRADE or SITE:GRADE-CLASS")
        site = await site_named(match["site"])
        grade = int(match["grade"]) if match["grade"] else None
        if grade is not None and site.kind is SiteKind.HALL:
            raise UserError(f"{site.name} is a children's hall: it has no grades")
        targets.append(Target(site.id, site.name, grade, match["class"].strip() if match["class"] else None))
    if not targets:
        raise UserError("a scope is needed: all, or a site")
    return Scope(tuple(dict.fromkeys(targets)))


async def check_scope_allowed(staff: StaffAccount, scope: Scope) -> None:
    """Administrators reach the whole city; staff only their own sites; the desk never."""
    if staff.role is StaffRole.ADMIN:
        return
    if staff.role is not StaffRole.STAFF:
        raise UserError("only staff and administrators send broadcasts")
    if scope.whole_city:
        raise UserError("only administrators send to the whole city")
    own = {site.id for site in await staff.sites.all()}
    outside = [t.site for t in scope.targets if t.site_id not in own]
    if outside:
        raise UserError(f"not your site: {', '.join(outside)}")


async def recipients(scope: Scope, *, after: int = 0, limit: int | None = None) -> list[int]:
    """Guardian ids in scope, ascending."""
    query = Guardian.filter(wants_broadcasts=True, id__gt=after)
    if not scope.whole_city:
        query = query.filter(await _scope_filter(scope))
    query = query.distinct().order_by("id")
    if limit is not None:
        query = query.limit(limit)
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    return cast(list[int], await query.values_list("id", flat=True))


async def _scope_filter(scope: Scope) -> Q:
    halls = {s.id for s in await Site.filter(id__in=[t.site_id for t in scope.targets], kind=SiteKind.HALL)}
    conditions = []
    for target in scope.targets:
        if target.site_id in halls:
            since = datetime.now(UTC) - timedelta(days=HALL_PUPILS_DAYS)
            pupil_ids = (
                await Passage.filter(site_id=target.site_id, seen_at__gte=since, pupil_id__isnull=False)
                .distinct()
                .values_list("pupil_id", flat=True)
            )
            conditions.append(Q(pupils__id__in=list(pupil_ids) or [0]))
            continue
        condition = Q(pupils__school_id=target.site_id)
        if target.grade is not None:
            condition &= Q(pupils__grade=target.grade)
        if target.class_name is not None:
            condition &= Q(pupils__class_name=target.class_name)
        conditions.append(condition)
    return Q(*conditions, join_type=Q.OR)
