"""The live tally of what a broadcast asked, per school, grade and class, and the pupils behind each number.

Every pupil in the broadcast's scope is counted once: whether a guardian of theirs was sent it
(delivered), what was answered for them (the counted answer's choice) or nothing yet, and whether
nobody of theirs can be reached (no delivery at all once the fan-out is done, or every one failed
or expired). The counting is one GROUP BY in the database over the pupils in scope, with the
answer and the delivery state as per-pupil expressions; a city (120,000 pupils) is a few hundred
rows back, never a row per pupil. Only the lists behind the numbers read pupils, a page at a time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, cast

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.broadcasts.people import Person, people
from core.broadcasts.scope import Scope, scope_filter
from core.db import connection
from core.i18n import Message, _
from core.models import (
    Broadcast,
    BroadcastAnswer,
    BroadcastStatus,
    DeliveryStatus,
    Guardian,
    Pupil,
    Site,
    StaffAccount,
)
from core.questions import Question, question_of

PAGE_SIZE = 100


class Reach(IntEnum):
    """How far a broadcast got to a pupil's family (the best of their guardians' deliveries)."""

    NONE = 0  # no delivery for any guardian (none with an address that takes broadcasts)
    FAILED = 1  # every delivery failed or expired
    PENDING = 2  # one is queued or being sent
    DELIVERED = 3  # one was sent


REACH_LABELS: dict[Reach, Message] = {
    Reach.NONE: _("no address that takes broadcasts"),
    Reach.FAILED: _("not delivered (failed or expired)"),
    Reach.PENDING: _("being sent"),
    Reach.DELIVERED: _("delivered"),
}


class Show(StrEnum):
    """Which pupils a list shows; a choice's number (``"0"``…) shows those answered so."""

    ALL = "all"
    DELIVERED = "delivered"
    UNANSWERED = "unanswered"
    UNREACHABLE = "unreachable"
    NEEDS_HELP = "help"


SHOW_LABELS: dict[Show, Message] = {
    Show.ALL: _("Every pupil"),
    Show.DELIVERED: _("Delivered"),
    Show.UNANSWERED: _("Unanswered"),
    Show.UNREACHABLE: _("Not reachable"),
    Show.NEEDS_HELP: _("Needs help"),
}


@dataclass
class Counts:
    pupils: int = 0
    delivered: int = 0
    unanswered: int = 0
    not_reachable: int = 0
    answers: list[int] = field(default_factory=list)  # by choice

    def add(self, other: Counts) -> None:
        self.pupils += other.pupils
        self.delivered += other.delivered
        self.unanswered += other.unanswered
        self.not_reachable += other.not_reachable
        self.answers = [a + b for a, b in zip(self.answers, other.answers, strict=True)]


@dataclass(frozen=True)
class Group:
    """A school, one grade of it (``class_name`` None), or one class, with its counts."""

    school_id: int
    school: str
    grade: int | None
    class_name: str | None
    counts: Counts

    def label(self) -> Message | str:
        """As a row of the tally reads: the school, 「3年」, 「3年2組」."""
        if self.grade is None:
            return self.school
        if self.class_name is None:
            return _("Grade %(grade)d", grade=self.grade)
        return _("Class %(grade)d-%(class_name)s", grade=self.grade, class_name=self.class_name)

    def where(self) -> Where:
        """Which pupils it counts, for the lists behind its numbers."""
        return Where(self.school_id, self.grade, self.class_name)

    def query(self, show: Show | str | int) -> dict[str, Any]:
        """The query parameters of the list of its pupils that ``show`` names."""
        return {"show": show.value if isinstance(show, Show) else show, **self.where().query()}


@dataclass(frozen=True)
class Tally:
    broadcast: Broadcast
    question: Question
    groups: list[Group]  # each school, then each of its grades followed by that grade's classes
    total: Counts


def _pupils_reached(broadcast_id: int, statuses: Collection[DeliveryStatus]) -> str:
    """SQL: the pupil (of the outer query) has a guardian with a delivery of the broadcast in ``statuses``
    (any, when empty). Not correlated: the database reads the deliveries once, by their
    (broadcast_id, status) index, and the guardians' pupils by the link table's guardian-first key."""
    wanted = ", ".join(f"'{s.value}'" for s in statuses)
    only = f" AND d.status IN ({wanted})" if statuses else ""
    return (
        '"pupil"."id" IN (SELECT gp.pupil_id FROM guardian_pupil gp JOIN delivery d ON d.guardian_id = gp.guardian_id'
        f" WHERE d.broadcast_id = {int(broadcast_id)}{only})"
    )


def _reach(broadcast_id: int) -> RawSQL:
    sent = _pupils_reached(broadcast_id, [DeliveryStatus.SENT])
    pending = _pupils_reached(broadcast_id, [DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
    tried = _pupils_reached(broadcast_id, [])
    return RawSQL(
        f"CASE WHEN {sent} THEN {Reach.DELIVERED:d} WHEN {pending} THEN {Reach.PENDING:d}"
        f" WHEN {tried} THEN {Reach.FAILED:d} ELSE {Reach.NONE:d} END"
    )


def _choice(broadcast_id: int, width: int) -> RawSQL:
    """The pupil's counted answer's choice (of ``width``), NULL when unanswered.

    SQLite: a lookup per pupil by the answers' unique key, its fastest form. PostgreSQL: a CASE over
    one uncorrelated subquery per choice (each hashed once), because it costs 120,000 lookups high
    enough to JIT-compile the query, which took longer than the query itself (624 of 763 ms)."""
    if connection().capabilities.dialect == "sqlite":
        return RawSQL(
            "(SELECT a.choice FROM broadcast_answer a"
            f' WHERE a.broadcast_id = {int(broadcast_id)} AND a.pupil_id = "pupil"."id")'
        )
    cases = " ".join(
        f'WHEN "pupil"."id" IN (SELECT a.pupil_id FROM broadcast_answer a'
        f" WHERE a.broadcast_id = {int(broadcast_id)} AND a.choice = {i}) THEN {i}"
        for i in range(width)
    )
    return RawSQL(f"CASE {cases} END")


def _unreachable(broadcast: Broadcast) -> list[int]:
    """The ``Reach`` values that count as not reachable: no delivery counts once the fan-out is done."""
    done = broadcast.status is BroadcastStatus.FANNED_OUT
    return [Reach.FAILED, Reach.NONE] if done else [Reach.FAILED]


async def scoped(broadcast: Broadcast, school_ids: Collection[int] | None) -> QuerySet[Pupil]:
    """The pupils in ``broadcast``'s scope; only ``school_ids``' when given."""
    query = Pupil.filter(await scope_filter(Scope.from_json(broadcast.scope), prefix=""))
    if school_ids is not None:
        query = query.filter(school_id__in=list(school_ids) or [0])
    return query


async def tally(broadcast: Broadcast, *, school_ids: Collection[int] | None = None) -> Tally:
    """The counts per school, grade and class (only ``school_ids``' when given), of a broadcast that asks."""
    question = question_of(broadcast)
    if question is None:
        raise ValueError(f"broadcast {broadcast.id} asks nothing")
    width = len(question.choices)
    unreachable = _unreachable(broadcast)
    classes: dict[tuple[int, int, str], Counts] = {}
    rows = (
        await (await scoped(broadcast, school_ids))
        .annotate(reach=_reach(broadcast.id), choice=_choice(broadcast.id, width))
        .annotate(n=Count("id"))
        .group_by("school_id", "grade", "class_name", "reach", "choice")
        .values("school_id", "grade", "class_name", "reach", "choice", "n")
    )
    for row in rows:
        counts = classes.setdefault((row["school_id"], row["grade"], row["class_name"]), Counts(answers=[0] * width))
        n = row["n"]
        counts.pupils += n
        counts.delivered += n if row["reach"] == Reach.DELIVERED else 0
        counts.not_reachable += n if row["reach"] in unreachable else 0
        if row["choice"] is None or not 0 <= row["choice"] < width:
            counts.unanswered += n
        else:
            counts.answers[row["choice"]] += n
    return Tally(broadcast, question, await _grouped(classes, width), _sum(classes.values(), width))


def _sum(parts: Collection[Counts], width: int) -> Counts:
    total = Counts(answers=[0] * width)
    for part in parts:
        total.add(part)
    return total


async def _grouped(classes: dict[tuple[int, int, str], Counts], width: int) -> list[Group]:
    names = dict(await Site.filter(id__in=list({k[0] for k in classes}) or [0]).values_list("id", "name"))
    groups: list[Group] = []
    for school_id in sorted(names, key=lambda i: (names[i], i)):
        mine = {k: v for k, v in classes.items() if k[0] == school_id}
        groups.append(Group(school_id, names[school_id], None, None, _sum(mine.values(), width)))
        for grade in sorted({k[1] for k in mine}):
            in_grade = sorted((k for k in mine if k[1] == grade), key=lambda k: k[2])
            groups.append(Group(school_id, names[school_id], grade, None, _sum([mine[k] for k in in_grade], width)))
            groups.extend(Group(school_id, names[school_id], grade, k[2], mine[k]) for k in in_grade)
    return groups


# ---- the pupils behind a number --------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Which part of the tally a list is of: a school, a grade of it, a class; anything when empty."""

    school_id: int | None = None
    grade: int | None = None
    class_name: str | None = None

    def filter(self) -> Q:
        return Q(**{_COLUMNS[name]: value for name, value in self.query().items()})

    def query(self) -> dict[str, Any]:
        """As the list's query parameters."""
        found: dict[str, Any] = {}
        if self.school_id is not None:
            found["school"] = self.school_id
            if self.grade is not None:
                found["grade"] = self.grade
                if self.class_name is not None:
                    found["class"] = self.class_name
        return found


EVERYWHERE = Where()
_COLUMNS = {"school": "school_id", "grade": "grade", "class": "class_name"}  # Where.query's names, as columns


@dataclass(frozen=True)
class PupilRow:
    pupil: Pupil  # its school fetched
    reach: Reach
    answer: BroadcastAnswer | None
    answered_by: str | None  # the answering guardian's login id
    guardians: tuple[Person, ...]  # their addresses only for staff of the pupil's school


def shown(show: str, question: Question) -> Show | int:
    """The list ``show`` names: a ``Show``, or a choice's index; everyone for anything else."""
    if show.isdecimal() and len(show) < 3 and int(show) < len(question.choices):
        return int(show)
    try:
        return Show(show)
    except ValueError:
        return Show.ALL


def _showing(query: QuerySet[Pupil], show: Show | int, broadcast: Broadcast, question: Question) -> QuerySet[Pupil]:
    """``query`` narrowed to the pupils ``show`` names. Answers and deliveries are matched by
    uncorrelated subqueries, which the database reads once, not by the per-pupil expressions."""
    answered = BroadcastAnswer.filter(broadcast_id=broadcast.id)
    if isinstance(show, int):
        return query.filter(id__in=Subquery(answered.filter(choice=show).values("pupil_id")))
    if show is Show.NEEDS_HELP:
        helps = sorted(question.needs_help()) or [-1]
        return query.filter(id__in=Subquery(answered.filter(choice__in=helps).values("pupil_id")))
    if show is Show.UNANSWERED:
        return query.exclude(id__in=Subquery(answered.values("pupil_id")))
    if show is Show.DELIVERED:
        return query.annotate(reach=_reach(broadcast.id)).filter(reach=Reach.DELIVERED)
    if show is Show.UNREACHABLE:
        return query.annotate(reach=_reach(broadcast.id)).filter(reach__in=_unreachable(broadcast))
    return query


async def pupils(
    broadcast: Broadcast,
    show: Show | int,
    *,
    where: Where = EVERYWHERE,
    school_ids: Collection[int] | None = None,
    viewer: StaffAccount | None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> tuple[list[PupilRow], int]:
    """One page of the pupils behind a number of the tally, by school, grade, class; and how many there are."""
    question = question_of(broadcast)
    if question is None:
        return [], 0
    query = _showing((await scoped(broadcast, school_ids)).filter(where.filter()), show, broadcast, question)
    total = await query.count()
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    ids = cast(
        list[int],
        await query.order_by("school_id", "grade", "class_name", "id")
        .offset(offset)
        .limit(limit)
        .values_list("id", flat=True),
    )
    found = await Pupil.filter(id__in=ids or [0]).annotate(reach=_reach(broadcast.id)).prefetch_related("school")
    found.sort(key=lambda p: (p.school_id, p.grade, p.class_name, p.id))
    return await _rows(broadcast, found, viewer=viewer), total


async def _rows(broadcast: Broadcast, found: list[Pupil], *, viewer: StaffAccount | None) -> list[PupilRow]:
    ids = [p.id for p in found] or [0]
    answers = {a.pupil_id: a for a in await BroadcastAnswer.filter(broadcast_id=broadcast.id, pupil_id__in=ids)}
    logins = dict(
        await Guardian.filter(id__in=[a.guardian_id for a in answers.values() if a.guardian_id] or [0]).values_list(
            "id", "login_id"
        )
    )
    guardians: dict[int, list[int]] = {}
    for pupil_id, guardian_id in await Pupil.filter(id__in=ids, guardians__id__isnull=False).values_list(
        "id", "guardians__id"
    ):
        guardians.setdefault(pupil_id, []).append(guardian_id)
    persons = await people([g for gs in guardians.values() for g in gs], viewer=viewer)
    rows = []
    for pupil in found:
        answer = answers.get(pupil.id)
        rows.append(
            PupilRow(
                pupil,
                Reach(getattr(pupil, "reach")),  # noqa: B009 - an annotation, unknown to the model's type
                answer,
                logins.get(answer.guardian_id) if answer and answer.guardian_id else None,
                tuple(persons[g] for g in sorted(guardians.get(pupil.id, [])) if g in persons),
            )
        )
    return rows


async def unanswered_families(broadcast: Broadcast) -> list[int]:
    """The guardians who take broadcasts and have a child in scope nobody has answered for, by id."""
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    found = cast(
        list[int],
        await (await scoped(broadcast, None))
        .exclude(id__in=Subquery(BroadcastAnswer.filter(broadcast_id=broadcast.id).values("pupil_id")))
        .filter(guardians__wants_broadcasts=True)
        .distinct()
        .values_list("guardians__id", flat=True),
    )
    return sorted(set(found))
