"""The audit log cannot be edited unnoticed."""

import pytest

from core import audit
from core.db import connection
from core.models import AuditEntry


async def _three_entries() -> list[AuditEntry]:
    return [
        await audit.record("staff:1", "password.reset", target="guardian:5", reason="忘れた"),
        await audit.record("cli:root", "roster.import", details={"rows": 3, "名前": "なし"}),
        await audit.record("staff:2", "tag.lost", target="tag:9", reason="紛失届"),
    ]


async def test_an_intact_log_verifies(database_url) -> None:
    entries = await _three_entries()
    assert entries[1].prev_hash == entries[0].hash
    assert await audit.verify_chain() == (3, [])


async def test_the_database_refuses_to_change_an_entry(database_url) -> None:
    entry = (await _three_entries())[0]
    with pytest.raises(Exception, match="append-only"):
        await AuditEntry.filter(id=entry.id).update(reason="no reason")
    with pytest.raises(Exception, match="append-only"):
        await AuditEntry.filter(id=entry.id).delete()


async def _drop_the_guard() -> None:
    if connection().capabilities.dialect == "sqlite":
        await connection().execute_script("DROP TRIGGER audit_entry_no_update")
        await connection().execute_script("DROP TRIGGER audit_entry_no_delete")
    else:
        await connection().execute_script("DROP TRIGGER audit_entry_append_only ON audit_entry")


async def test_an_edited_entry_is_detected(database_url) -> None:
    entries = await _three_entries()
    await _drop_the_guard()  # as someone with the database password could
    await AuditEntry.filter(id=entries[1].id).update(actor="staff:99")
    checked, problems = await audit.verify_chain()
    assert checked == 3
    assert [(p.entry_id, p.reason) for p in problems] == [(entries[1].id, "was changed after it was written")]


async def test_a_removed_entry_is_detected(database_url) -> None:
    entries = await _three_entries()
    await _drop_the_guard()
    await AuditEntry.filter(id=entries[1].id).delete()
    _, problems = await audit.verify_chain()
    assert [(p.entry_id, p.reason) for p in problems] == [(entries[2].id, "does not follow the entry before it")]
