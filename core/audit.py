"""The audit log: append-only, each entry's hash covering its fields and the previous hash.

Entries name people by account ids and login IDs, never by name or address (those are sealed
elsewhere). Appends are serialised (an advisory lock on PostgreSQL, the write lock on SQLite) so
the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import actors
from core.identifiers import compact_code
from core.models import AuditEntry, Guardian, StaffAccount

GENESIS = "0" * 64
_LOCK_KEY = 0x6D696D61  # "mima": the advisory lock taken while appending


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    reason: str


async def record(
    actor: str,
    action: str,
    *,
    target: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry, inside the caller's transaction if there is one."""
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "postgres":
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_LOCK_KEY])
        last = await AuditEntry.all().order_by("-id").first().only("hash")
        entry = AuditEntry(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            details=details,
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = entry_hash(entry)
        await entry.save()
    return entry


def entry_hash(entry: AuditEntry) -> str:
    fields = [
        entry.prev_hash,
        entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        entry.actor,
        entry.action,
        entry.target,
        entry.reason,
        entry.details,
    ]
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def verify_chain(batch_size: int = 1000) -> tuple[int, list[ChainProblem]]:
    """Walk the whole log; returns how many entries were checked and what is wrong."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        batch = await AuditEntry.filter(id__gt=last_id).order_by("id").limit(batch_size)
        if not batch:
            break
        for entry in batch:
            checked += 1
            if entry.prev_hash != expected_prev:
                problems.append(ChainProblem(entry.id, "does not follow the entry before it"))
            if entry_hash(entry) != entry.hash:
                problems.append(ChainProblem(entry.id, "was changed after it was written"))
            expected_prev = entry.hash
            last_id = entry.id
    return checked, problems


async def by_or_about(typed: str) -> Q:
    """Entries a person did or that were done to them: ``typed`` is a staff or guardian login ID,
    a guardian's or pupil's name (as the support desk searches), or an actor as the log spells it."""
    from core import support  # (core.support writes through this module)

    typed = typed.strip()
    spellings = set(await _spellings(typed))
    if ":" not in typed:
        for guardian in await support.find_guardians(name=typed):
            spellings |= {actors.guardian(guardian), f"{actors.GUARDIAN}:{guardian.login_id}"}
    if not spellings:
        return await actors.matching(typed)
    return Q(
        *(Q(actor=s) | Q(actor__startswith=f"{s}:") | Q(target=s) for s in sorted(spellings)),
        join_type=Q.OR,
    )


async def _spellings(typed: str) -> list[str]:
    if ":" in typed:
        return []
    found: list[str] = []
    staff = await StaffAccount.get_or_none(login_id=typed) or await StaffAccount.get_or_none(login_id=typed.lower())
    if staff is not None:
        found += [actors.staff(staff), f"{actors.STAFF}:{staff.id}"]
    guardian = await Guardian.get_or_none(login_id=compact_code(typed))
    if guardian is not None:
        found += [actors.guardian(guardian), f"{actors.GUARDIAN}:{guardian.login_id}"]
    return found
