"""Applying a parsed roster to the database, all or nothing, in batches.

Idempotent: a row already in the database changes nothing; a changed row updates in place; a
new guardian gets a login ID, a one-time password and a registration code, which are returned
once (for the credentials file and the printed notices) and never issued again. An import never
deletes: a roster may cover one school only. A school it covers is taken as whole: a pupil of
that school the file leaves out has left it, so their tags are retired (off the class board, no
"not seen" check) and their history stays. An import with problems (``--partial``) retires nothing,
as a left-out row may be one that was refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core import audit, zones
from core.addresses import address_index
from core.blind_indexes import Purpose, code_index, index, name_index, tag_index
from core.channels import spec
from core.db import refresh_statistics
from core.i18n import Message, _
from core.identifiers import new_login_id, new_registration_code
from core.models import (
    AddressStatus,
    Channel,
    ContactAddress,
    Guardian,
    Pupil,
    Site,
    SiteKind,
    Tag,
    TagStatus,
)
from core.passwords import Passwords
from core.roster.parse import RosterRow, RowProblem, parse_roster
from core.staff_labels import TAG_STATES

BATCH = 500

Progress = Callable[[str, int, int], object]  # phase, done, total
_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class NewGuardian:
    """What a new guardian is told once: on the credentials file and the printed notice."""

    guardian_ref: str
    login_id: str
    initial_password: str
    registration_code: str
    name: str
    pupils: tuple[str, ...]  # "第一小学校 3年2組 山田 花子"


@dataclass
class ImportResult:
    encoding: str
    rows: int
    problems: list[RowProblem]
    ignored_columns: list[str]
    written: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    new_guardians: list[NewGuardian] = field(default_factory=list)


async def import_roster(
    data: bytes,
    *,
    passwords: Passwords,
    max_addresses: int,
    actor: str,
    timezone: str = zones.DEFAULT_NAME,
    partial: bool = False,
    progress: Progress | None = None,
    before_commit: Callable[[list[NewGuardian]], object] | None = None,
) -> ImportResult:
    """Import a roster file; with problems, write nothing unless ``partial``.

    ``before_commit`` receives the new guardians' credentials inside the transaction: if it
    fails (say, the credentials file cannot be written), nothing is imported.
    """
    parsed = parse_roster(data, max_addresses=max_addresses)
    state = await _State.load(parsed.rows)
    rows, db_problems = state.check(parsed.rows, max_addresses=max_addresses)
    result = ImportResult(
        encoding=parsed.encoding,
        rows=len(parsed.rows) + len(parsed.problems),
        problems=sorted(parsed.problems + db_problems, key=lambda p: p.line),
        ignored_columns=parsed.ignored_columns,
    )
    if result.problems and not partial:
        return result
    async with in_transaction():
        writer = _Writer(state, passwords, result, progress or (lambda *_: None), timezone)
        await writer.write(rows)
        if before_commit is not None:
            before_commit(result.new_guardians)
        await audit.record(
            actor,
            "roster.import",
            details={"rows": len(rows), "problems": len(result.problems), **result.counts},
        )
    result.written = True
    await refresh_statistics(Site, Pupil, Tag, Guardian, ContactAddress)
    return result


def _pupil_key(row: RosterRow) -> str:
    return index(Purpose.PUPIL, "\x1f".join(row.pupil_identity))


def guardian_key(guardian_ref: str) -> str:
    """How a family is found again at the next import: the school's reference is personal data
    (often a student number or a family name code), so it is sealed and looked up by this."""
    return index(Purpose.GUARDIAN_REF, guardian_ref)


def registration_code_index(code: str) -> str:
    return code_index(Purpose.REGISTRATION_CODE, code)


async def _fetch_in(rows: type[_M] | QuerySet[_M], column: str, values: Iterable[Any]) -> list[_M]:
    found: list[_M] = []
    values = list(values)
    for start in range(0, len(values), BATCH):
        found += await rows.filter(**{f"{column}__in": values[start : start + BATCH]})
    return found


class _State:
    """What the database already holds about the roster's sites, pupils, tags and guardians."""

    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}
        self.pupils: dict[str, Pupil] = {}  # by roster_key
        self.tags: dict[str, Tag] = {}  # by number_index
        self.active_tags: dict[int, list[Tag]] = {}  # by pupil id
        self.guardians: dict[str, Guardian] = {}  # by roster_ref_index
        self.links: set[tuple[int, int]] = set()
        self.addresses: dict[int, list[ContactAddress]] = {}  # by guardian id

    @classmethod
    async def load(cls, rows: Sequence[RosterRow]) -> _State:
        state = cls()
        state.sites = {s.name: s for s in await _fetch_in(Site, "name", {r.school for r in rows})}
        keys = {_pupil_key(r) for r in rows}
        state.pupils = {p.roster_key: p for p in await _fetch_in(Pupil, "roster_key", keys)}
        numbers = {tag_index(r.tag) for r in rows if r.tag}
        state.tags = {t.number_index: t for t in await _fetch_in(Tag, "number_index", numbers)}
        pupil_ids = [p.id for p in state.pupils.values()]
        for tag in await _fetch_in(Tag.filter(status=TagStatus.ACTIVE), "pupil_id", pupil_ids):
            state.active_tags.setdefault(tag.pupil_id, []).append(tag)  # type: ignore[arg-type]  # pupil_id__in: not None
        refs = {guardian_key(r.guardian_ref) for r in rows}
        found = await _fetch_in(Guardian, "roster_ref_index", refs)
        state.guardians = {g.roster_ref_index: g for g in found}  # type: ignore[misc]  # roster_ref_index__in: not None
        await state._load_links_and_addresses([g.id for g in state.guardians.values()])
        return state

    async def _load_links_and_addresses(self, guardian_ids: list[int]) -> None:
        for start in range(0, len(guardian_ids), BATCH):
            chunk = guardian_ids[start : start + BATCH]
            pairs = await Guardian.filter(id__in=chunk).values_list("id", "pupils__id")
            self.links |= {(g, p) for g, p in pairs if p is not None}
            for address in await ContactAddress.filter(guardian_id__in=chunk):
                self.addresses.setdefault(address.guardian_id, []).append(address)

    def check(self, rows: Sequence[RosterRow], *, max_addresses: int) -> tuple[list[RosterRow], list[RowProblem]]:
        """Rows that fit what the database holds, and problems with the others."""
        kept: list[RosterRow] = []
        problems: list[RowProblem] = []
        emails_by_ref: dict[str, set[str]] = {}
        for row in rows:
            reason: Message | None = self._tag_problem(row)
            guardian = self.guardians.get(guardian_key(row.guardian_ref))
            if reason is None and guardian is not None:
                known = {a.value_index for a in self.addresses.get(guardian.id, [])}
                counted = sum(1 for a in self.addresses.get(guardian.id, []) if a.slot)
                emails = emails_by_ref.setdefault(row.guardian_identity, set())
                new = {address_index(Channel.EMAIL, e) for e in row.emails} - known
                if counted + len(emails | new) > max_addresses:
                    reason = _(
                        "guardian_ref %(ref)s already has %(count)d registered address(es); the limit is %(limit)d",
                        ref=row.guardian_ref,
                        count=counted,
                        limit=max_addresses,
                    )
                else:
                    emails |= new
            if reason is None:
                kept.append(row)
            else:
                problems.append(RowProblem(row.line, reason))
        return kept, problems

    def _tag_problem(self, row: RosterRow) -> Message | None:
        if not row.tag:
            return None
        tag = self.tags.get(tag_index(row.tag))
        if tag is None:
            return None
        pupil = self.pupils.get(_pupil_key(row))
        if tag.pupil_id is not None and (pupil is None or tag.pupil_id != pupil.id):
            return _("tag_id %(tag)s already belongs to another pupil", tag=row.tag)
        if tag.status is not TagStatus.ACTIVE:
            return _(
                "tag_id %(tag)s is marked %(state)s and cannot be given out again",
                tag=row.tag,
                state=TAG_STATES[tag.status],
            )
        return None


class _Writer:
    def __init__(
        self, state: _State, passwords: Passwords, result: ImportResult, progress: Progress, timezone: str
    ) -> None:
        self.state = state
        self.timezone = timezone  # of the schools the roster names first
        self.passwords = passwords
        self.result = result
        self.counts = result.counts
        self.progress = progress

    async def write(self, rows: list[RosterRow]) -> None:
        pupil_rows = {_pupil_key(row): row for row in rows}
        guardian_rows: dict[str, list[RosterRow]] = {}
        for row in rows:
            guardian_rows.setdefault(guardian_key(row.guardian_ref), []).append(row)
        await self._write_sites({row.school for row in rows})
        await self._write_pupils(pupil_rows)
        await self._write_tags(pupil_rows)
        await self._write_guardians(guardian_rows)
        if not self.result.problems:
            await self._retire_left_out({row.school for row in rows}, pupil_rows.keys())

    async def _retire_left_out(self, schools: set[str], kept: Iterable[str]) -> None:
        site_ids = [self.state.sites[name].id for name in schools]
        # compared here, not in the query: a city's roster keys are more than PostgreSQL's 32,767
        # parameters a statement
        kept_keys = set(kept)
        tagged = await Tag.filter(status=TagStatus.ACTIVE, pupil__school_id__in=site_ids).values_list(
            "pupil_id", "pupil__roster_key"
        )
        pupil_ids = sorted({pupil_id for pupil_id, key in tagged if key not in kept_keys})
        now = datetime.now(UTC)
        for start in range(0, len(pupil_ids), 1000):
            await Tag.filter(status=TagStatus.ACTIVE, pupil_id__in=pupil_ids[start : start + 1000]).update(
                status=TagStatus.RETIRED, status_changed_at=now
            )
        self.counts["pupils_left"] += len(pupil_ids)

    async def _write_sites(self, names: set[str]) -> None:
        for name in sorted(names - self.state.sites.keys()):
            self.state.sites[name] = await Site.create(name=name, kind=SiteKind.SCHOOL, timezone=self.timezone)
            self.counts["sites_created"] += 1

    async def _write_pupils(self, pupil_rows: dict[str, RosterRow]) -> None:
        new: list[Pupil] = []
        for done, (key, row) in enumerate(pupil_rows.items(), 1):
            school = self.state.sites[row.school]
            wanted = {
                "school_id": school.id,
                "grade": row.grade,
                "class_name": row.class_name,
                "name": row.pupil_name,
            }
            pupil = self.state.pupils.get(key)
            if pupil is None:
                new.append(Pupil(roster_key=key, name_index=name_index(row.pupil_name), **wanted))
            elif _update(pupil, wanted):
                pupil.name_index = name_index(row.pupil_name)
                await pupil.save()
                self.counts["pupils_updated"] += 1
            if done % BATCH == 0 or done == len(pupil_rows):
                self.progress("pupils", done, len(pupil_rows))
        await _bulk_create(Pupil, new)
        self.counts["pupils_created"] += len(new)
        for pupil in await _fetch_in(Pupil, "roster_key", [p.roster_key for p in new]):
            self.state.pupils[pupil.roster_key] = pupil

    async def _write_tags(self, pupil_rows: dict[str, RosterRow]) -> None:
        new: list[Tag] = []
        for key, row in pupil_rows.items():
            pupil = self.state.pupils[key]
            wanted = tag_index(row.tag) if row.tag else None
            for old in self.state.active_tags.get(pupil.id, []):
                if old.number_index != wanted:
                    old.status = TagStatus.RETIRED
                    old.status_changed_at = datetime.now(UTC)
                    await old.save(update_fields=["status", "status_changed_at"])
                    self.counts["tags_retired"] += 1
            if wanted is None:
                continue
            tag = self.state.tags.get(wanted)
            if tag is None:
                new.append(Tag(number=row.tag, number_index=wanted, pupil_id=pupil.id))
            elif tag.pupil_id is None:
                tag.pupil_id = pupil.id
                await tag.save(update_fields=["pupil_id"])
                self.counts["tags_assigned"] += 1
        await _bulk_create(Tag, new)
        self.counts["tags_created"] += len(new)

    async def _write_guardians(self, guardian_rows: dict[str, list[RosterRow]]) -> None:
        new: list[tuple[Guardian, NewGuardian]] = []
        login_ids = await _unused(Guardian, "login_id", new_login_id, _count_new(guardian_rows, self.state))
        codes = await _unused_codes(_count_new(guardian_rows, self.state))
        for done, (key, rows) in enumerate(guardian_rows.items(), 1):
            wanted = {
                "name": rows[0].guardian_name,
                "wants_passages": any(row.ictag for row in rows),
                "wants_broadcasts": True,
            }
            guardian = self.state.guardians.get(key)
            if guardian is None:
                new.append(self._new_guardian(key, rows, wanted, login_ids.pop(), codes.pop()))
            elif _update(guardian, wanted):
                guardian.name_index = name_index(rows[0].guardian_name)
                await guardian.save()
                self.counts["guardians_updated"] += 1
            if done % BATCH == 0 or done == len(guardian_rows):
                self.progress("guardians", done, len(guardian_rows))
        await _bulk_create(Guardian, [guardian for guardian, _ in new])
        self.counts["guardians_created"] += len(new)
        self.result.new_guardians = [credentials for _guardian, credentials in new]
        for guardian in await _fetch_in(Guardian, "roster_ref_index", [g.roster_ref_index for g, _credentials in new]):
            self.state.guardians[guardian.roster_ref_index] = guardian  # type: ignore[index]  # found by it: not None
        await self._write_links(guardian_rows)
        await self._write_addresses(guardian_rows)

    def _new_guardian(
        self, key: str, rows: list[RosterRow], wanted: dict[str, Any], login_id: str, code: str
    ) -> tuple[Guardian, NewGuardian]:
        password, stored = self.passwords.issue_one_time()
        ref = rows[0].guardian_ref
        guardian = Guardian(
            login_id=login_id,
            roster_ref=ref,
            roster_ref_index=key,
            name_index=name_index(wanted["name"]),
            password_hash=stored,
            must_change_password=True,
            registration_code_index=registration_code_index(code),
            **wanted,
        )
        pupils = tuple(dict.fromkeys(f"{row.school} {row.grade}年{row.class_name}組 {row.pupil_name}" for row in rows))
        return guardian, NewGuardian(ref, login_id, password, code, wanted["name"], pupils)

    async def _write_links(self, guardian_rows: dict[str, list[RosterRow]]) -> None:
        missing = {
            (self.state.guardians[ref].id, self.state.pupils[_pupil_key(row)].id)
            for ref, rows in guardian_rows.items()
            for row in rows
        } - self.state.links
        if not missing:
            return
        through = cast(ManyToManyFieldInstance[Pupil], Guardian._meta.fields_map["pupils"]).through
        connection = Guardian._meta.db
        marks = ("?", "?") if connection.capabilities.dialect == "sqlite" else ("$1", "$2")
        await connection.execute_many(
            f'INSERT INTO "{through}" ("guardian_id", "pupil_id") VALUES ({marks[0]}, {marks[1]})',
            [list(pair) for pair in sorted(missing)],
        )
        self.counts["links_added"] += len(missing)

    async def _write_addresses(self, guardian_rows: dict[str, list[RosterRow]]) -> None:
        new: list[ContactAddress] = []
        now = datetime.now(UTC)
        for ref, rows in guardian_rows.items():
            guardian = self.state.guardians[ref]
            existing = self.state.addresses.get(guardian.id, [])
            known = {a.value_index for a in existing}
            taken = {a.slot for a in existing if a.slot}
            for email in dict.fromkeys(e for row in rows for e in row.emails):
                index = address_index(Channel.EMAIL, email)
                if index in known:
                    continue
                slot = min(set(range(1, len(taken) + 2)) - taken)
                taken.add(slot)
                known.add(index)
                new.append(
                    ContactAddress(
                        guardian_id=guardian.id,
                        channel=Channel.EMAIL,
                        value=email,
                        value_index=index,
                        lane=spec(Channel.EMAIL).lane(email),
                        slot=slot,
                        status=AddressStatus.ACTIVE,
                        verified_at=now,
                    )
                )
        await _bulk_create(ContactAddress, new)
        self.counts["addresses_added"] += len(new)


def _update(instance: Model, wanted: dict[str, Any]) -> bool:
    """Set the fields that differ; True when anything changed."""
    changed = False
    for name, value in wanted.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


async def _bulk_create(model: type[_M], instances: list[_M]) -> None:
    if instances:
        await model.bulk_create(instances, batch_size=BATCH)


def _count_new(guardian_rows: dict[str, list[RosterRow]], state: _State) -> int:
    return sum(1 for ref in guardian_rows if ref not in state.guardians)


async def _unused(model: type[Model], column: str, make: Callable[[], str], count: int) -> list[str]:
    """``count`` fresh values that no row holds yet in ``column``."""
    chosen: set[str] = set()
    while len(chosen) < count:
        candidates = {make() for _ in range(count - len(chosen))} - chosen
        taken = {getattr(row, column) for row in await _fetch_in(model, column, candidates)}
        chosen |= candidates - taken
    return list(chosen)


async def _unused_codes(count: int) -> list[str]:
    by_index: dict[str, str] = {}
    while len(by_index) < count:
        fresh = {
            registration_code_index(code): code
            for code in (new_registration_code() for _ in range(count - len(by_index)))
        }
        taken = await _fetch_in(Guardian, "registration_code_index", fresh.keys())
        for guardian in taken:
            fresh.pop(guardian.registration_code_index, None)  # type: ignore[arg-type]  # found by it: not None
        by_index.update(fresh)
    return list(by_index.values())
