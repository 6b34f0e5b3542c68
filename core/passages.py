"""Recording a passage a gate reported: the one place its direction and its notices are decided.

A passage is stored once per ``event_id`` (a gate repeats an upload it is unsure of), together
with its sealed still and, in the same transaction, the notices it causes. At a school the first
counted passage of a pupil's local day is 登校 (after the site's cut-off 下校), the next 下校,
alternating after that; a hall records 通過. A pass of the same pupil at the same site within
``passages.repeat_minutes`` of another is stored as a repeat that tells nobody. Unknown, lost
and retired tags are stored and tell no guardian; unknown and lost ones tell the site's staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import metrics, zones
from core.blind_indexes import tag_index
from core.config import Settings
from core.db import connection, insert_rows, placeholder
from core.delivery.outbox import Priority, Recipient, enqueue_to_guardians, expiry
from core.delivery.wakeup import notices_queued
from core.identifiers import compact_code, new_token
from core.models import (
    AddressStatus,
    Channel,
    Direction,
    Gate,
    Guardian,
    NoticeKind,
    Passage,
    PassageOutcome,
    Photo,
    Pupil,
    Site,
    SiteKind,
    TagStatus,
)
from core.preferences import holds_passage_notice
from core.staff_notices import notify_site_staff
from core.wire import PassageEvent

JPEG_START = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"
_COUNTED = (PassageOutcome.NOTIFIED, PassageOutcome.REPEAT)
_OUTCOME_OF_STATUS = {TagStatus.LOST: PassageOutcome.LOST_TAG, TagStatus.RETIRED: PassageOutcome.RETIRED_TAG}
_STAFF_EVENT = {PassageOutcome.UNKNOWN_TAG: "unknown_tag_read", PassageOutcome.LOST_TAG: "lost_tag_read"}


@dataclass(frozen=True)
class Recorded:
    passage: Passage
    duplicate: bool  # the event had been recorded before: nothing new was stored or queued


def is_jpeg(data: bytes) -> bool:
    """A JPEG starts with SOI and a marker, and ends with EOI (cameras may pad after it)."""
    return data.startswith(JPEG_START) and JPEG_END in data[-64:]


def given_name(full_name: str) -> str:
    """The given name notices use: the last part of ``山田 花子`` (full-width space too)."""
    parts = full_name.split()
    return parts[-1] if parts else full_name


async def record_passage(gate: Gate, event: PassageEvent, photo: bytes | None, settings: Settings) -> Recorded:
    """Store ``event`` from ``gate`` once, with its still and its notices; repeats are no-ops.

    A repeated event is told apart by the unique ``event_id`` refusing the insert, which costs a
    rolled-back transaction now and then instead of a look-up for every passage. Who the tag
    belongs to and where to tell is read before the write transaction, so the write lock (all of
    SQLite, one pupil on PostgreSQL) is held only to decide the direction and to write.
    """
    site = gate.site if isinstance(gate.site, Site) else await Site.get(id=gate.site_id)
    index = tag_index(event.tag)
    tag = await _read_tag(index)
    try:
        async with in_transaction() as connection:
            passage = await _record(gate, site, tag, index, event, photo, settings, connection.capabilities.dialect)
    except IntegrityError:
        existing = await Passage.get_or_none(event_id=event.event_id)
        if existing is None:
            raise
        return Recorded(existing, duplicate=True)
    notices_queued()
    metrics.passage_recorded(site.id, passage.outcome.value)
    return Recorded(passage, duplicate=False)


async def _record(
    gate: Gate,
    site: Site,
    tag: _TagRead | None,
    index: str,
    event: PassageEvent,
    photo: bytes | None,
    settings: Settings,
    dialect: str,
) -> Passage:
    seen_at = event.seen_at.astimezone(UTC)
    passage = Passage(
        event_id=event.event_id,
        gate_id=gate.id,
        site_id=site.id,
        tag_id=tag.id if tag else None,
        pupil_id=tag.pupil_id if tag else None,
        tag_number=compact_code(event.tag),
        tag_number_index=index,
        seen_at=seen_at,
        reader=event.reader,
        photo_missing=event.photo_missing,
    )
    if tag is None or tag.pupil_id is None:
        passage.outcome = PassageOutcome.UNKNOWN_TAG
    elif tag.status is not TagStatus.ACTIVE:
        passage.outcome = _OUTCOME_OF_STATUS[tag.status]
    else:
        if dialect != "sqlite":  # SQLite's one writer already decides directions in turn
            await Pupil.select_for_update().filter(id=tag.pupil_id).only("id").first()
        passage.direction, passage.outcome = await _direction(site, tag.pupil_id, seen_at, settings)
    await passage.save()
    token = await _store_photo(passage, photo, settings) if photo else None
    if passage.outcome is PassageOutcome.NOTIFIED:
        await _notify_guardians(passage, tag, site, token, settings)  # type: ignore[arg-type]  # NOTIFIED only for a known tag
    elif passage.outcome in _STAFF_EVENT:
        await notify_site_staff(
            site,
            fact=f"tag-read:{site.id}:{index[:32]}:{zones.local(seen_at, site).date()}",
            event=_STAFF_EVENT[passage.outcome],
            gate=gate,
            at=seen_at,
        )
    return passage


async def _direction(
    site: Site, pupil_id: int, seen_at: datetime, settings: Settings
) -> tuple[Direction, PassageOutcome]:
    """Repeat within the window, else 通過 at a hall, else alternate over the local day."""
    window = timedelta(minutes=settings.passages.repeat_minutes)
    day_start, _ = zones.day_bounds(zones.local(seen_at, site).date(), zones.of(site))
    earlier = await _counted_passages(
        pupil_id, site.id, min(day_start.astimezone(UTC), seen_at - window), seen_at + window
    )
    nearby = [d for at, d, _ in earlier if abs(at - seen_at) < window]
    if window and nearby:
        return Direction(nearby[-1]) if nearby[-1] else _first_direction(site, seen_at), PassageOutcome.REPEAT
    if site.kind is SiteKind.HALL:
        return Direction.PASSAGE, PassageOutcome.NOTIFIED
    today = [d for at, d, outcome in earlier if at >= day_start and at < seen_at and outcome == PassageOutcome.NOTIFIED]
    if not today:
        return _first_direction(site, seen_at), PassageOutcome.NOTIFIED
    start = Direction(today[0]) if today[0] else Direction.ARRIVAL
    flipped = Direction.DEPARTURE if start is Direction.ARRIVAL else Direction.ARRIVAL
    return (start if len(today) % 2 == 0 else flipped), PassageOutcome.NOTIFIED


# Raw SQL: it runs under the write lock, where building it through the ORM cost more than running it.
_COUNTED_SQL = """
SELECT seen_at, direction, outcome FROM passage
WHERE pupil_id = {0} AND site_id = {1} AND outcome IN ({2}, {3}) AND seen_at >= {4} AND seen_at < {5}
ORDER BY seen_at
"""
_SEEN_AT = Passage._meta.fields_map["seen_at"]


async def _counted_passages(
    pupil_id: int, site_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, Direction | None, PassageOutcome]]:
    """(seen_at, direction, outcome) of the pupil's counted passages at the site, oldest first."""
    client = connection()
    sql = _COUNTED_SQL.format(*(placeholder(client.capabilities.dialect, n) for n in range(1, 7)))
    rows = await client.execute_query_dict(
        sql,
        [
            pupil_id,
            site_id,
            *(o.value for o in _COUNTED),
            _SEEN_AT.to_db_value(since, Passage),
            _SEEN_AT.to_db_value(until, Passage),
        ],
    )
    return [
        (
            _SEEN_AT.to_python_value(row["seen_at"]),
            Direction(row["direction"]) if row["direction"] else None,
            PassageOutcome(row["outcome"]),
        )
        for row in rows
    ]


def _first_direction(site: Site, seen_at: datetime) -> Direction:
    if site.kind is SiteKind.HALL:
        return Direction.PASSAGE
    return Direction.DEPARTURE if zones.local(seen_at, site).time() >= site.cutoff else Direction.ARRIVAL


async def _store_photo(passage: Passage, jpeg: bytes, settings: Settings) -> str:
    token = new_token()
    await insert_rows(
        Photo,
        [
            {
                "passage_id": passage.id,
                "token": token,
                "jpeg": jpeg,
                "size": len(jpeg),
                "taken_at": passage.seen_at,
                "expires_at": datetime.now(UTC) + timedelta(days=settings.photos.retention_days),
            }
        ],
    )
    return token


@dataclass(frozen=True)
class _Told(Recipient):
    """An address to tell of a passage, with its guardian's quiet hours."""

    passages_paused: bool
    quiet_start: time | None
    quiet_end: time | None


@dataclass(frozen=True)
class _TagRead:
    """A tag as a passage needs it: its pupil's sealed name and whom to tell of the pupil."""

    id: int
    pupil_id: int | None
    status: TagStatus
    sealed_pupil_name: bytes | None
    told: list[_Told]

    @property
    def pupil_name(self) -> str:
        name: str = _PUPIL_NAME.to_python_value(self.sealed_pupil_name)
        return name


# The tag, its pupil and the verified addresses of the pupil's guardians who have the IC-tag
# service and have not paused it, in one statement. Raw SQL: building these joins through the ORM
# cost more than the rest of the passage did.
_TAG_SQL = """
SELECT t.id AS tag_id, t.pupil_id, t.status, p.name AS pupil_name,
       a.id AS address_id, a.channel, a.lane, g.id AS guardian_id, g.quiet_start, g.quiet_end
FROM tag t
LEFT JOIN pupil p ON p.id = t.pupil_id
LEFT JOIN guardian_pupil gp ON gp.pupil_id = p.id
LEFT JOIN guardian g ON g.id = gp.guardian_id AND g.wants_passages = {0} AND g.passages_paused = {1}
LEFT JOIN contact_address a ON a.guardian_id = g.id AND a.slot IS NOT NULL AND a.status = {2}
WHERE t.number_index = {3}
ORDER BY g.id, a.slot
"""
_QUIET = Guardian._meta.fields_map["quiet_start"]
_PUPIL_NAME = Pupil._meta.fields_map["name"]


async def _read_tag(index: str) -> _TagRead | None:
    client = connection()
    sql = _TAG_SQL.format(*(placeholder(client.capabilities.dialect, n) for n in range(1, 5)))
    rows = await client.execute_query_dict(sql, [True, False, AddressStatus.ACTIVE.value, index])
    if not rows:
        return None
    first = rows[0]
    told = [
        _Told(
            address_id=row["address_id"],
            channel=Channel(row["channel"]),
            guardian_id=row["guardian_id"],
            lane=row["lane"],
            passages_paused=False,
            quiet_start=_QUIET.to_python_value(row["quiet_start"]),
            quiet_end=_QUIET.to_python_value(row["quiet_end"]),
        )
        for row in rows
        if row["address_id"] is not None
    ]
    return _TagRead(first["tag_id"], first["pupil_id"], TagStatus(first["status"]), first["pupil_name"], told)


async def _notify_guardians(
    passage: Passage, tag: _TagRead, site: Site, photo_token: str | None, settings: Settings
) -> None:
    payload = {
        "pupil": given_name(tag.pupil_name),
        "site": site.name,
        "direction": passage.direction.value,  # recorded before anyone is told (Tortoise types it as never None)
        "seen_at": passage.seen_at.isoformat(),
        "zone": site.timezone,  # the time in the notice is the site's local time
        "photo_token": photo_token,
    }
    timezone = zones.of(site)
    await enqueue_to_guardians(
        kind=NoticeKind.PASSAGE,
        fact=f"passage:{passage.id}",
        passage_id=passage.id,
        payload=payload,
        recipients=[t for t in tag.told if not holds_passage_notice(t, passage.seen_at, timezone)],
        priority=Priority.TRANSACTIONAL,
        expires_at=expiry(NoticeKind.PASSAGE, passage.seen_at, settings.delivery),
    )
