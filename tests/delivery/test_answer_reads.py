"""An answer's work does not grow with the city: every statement it sends reads by an index.

Before, asking whether the broadcast was sent to the guardian read every delivery of the
broadcast; finding their children, and the answer page's "answered at", joined the guardian table
so that SQLite read every pupil (for the answer page: once per answer already given). At 20,000
families an answer took a tenth of a second, and the answer page slowed with every answer.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from core import broadcasts
from core.config import Settings
from core.db import connection
from core.models import Broadcast, BroadcastCategory, Delivery, Guardian
from tests.factories import make_guardian, make_pupil, make_site
from tests.sql_counter import counting_statements

_LAST = 'ORDER BY "id" DESC LIMIT ?'  # (the audit chain's last entry: a scan that stops at the first row)


async def asked_family(settings: Settings) -> str:
    """A city of a few families asked the safety question; the answer link of the one with two children."""
    school = await make_site()
    children = [await make_pupil(school, name) for name in ("山田 花子", "山田 太郎")]
    for n in range(30):  # other families, so that a scan would be a choice the planner can make
        await make_guardian(f"保護者 {n}", pupils=[await make_pupil(school, f"児童 {n}")], emails=[f"p{n}@example.jp"])
    guardian = await make_guardian(pupils=children, emails=["keiko@example.jp"])
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="地震",
        body="お子さまの様子を答えてください。",
        question=broadcasts.BUILTIN_TEMPLATES[0].question,
    )
    await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(settings)
    for other in await Delivery.filter(broadcast_id=draft.id).exclude(guardian_id=guardian.id):
        assert other.guardian_id is not None and other.ack_token is not None
        await broadcasts.answer_by_token(other.ack_token, 0)  # answers given before: the page must not read them all
    token = (await Delivery.get(broadcast_id=draft.id, guardian_id=guardian.id)).ack_token
    assert token is not None
    return token


async def plans(statements: Iterable[str]) -> dict[str, str]:
    """SQLite's plan of each SELECT among ``statements``."""
    found = {}
    for statement in {s for s in statements if s.startswith("SELECT")}:
        rows = await connection().execute_query_dict(f"EXPLAIN QUERY PLAN {statement}", [None] * statement.count("?"))
        found[statement] = " | ".join(row["detail"] for row in rows)
    return found


def scans(found: dict[str, str]) -> dict[str, str]:
    return {s: plan for s, plan in found.items() if ("SCAN" in plan and _LAST not in s) or "AUTOMATIC" in plan}


async def test_an_answer_by_link_reads_only_by_index(settings, is_postgres) -> None:
    if is_postgres:
        pytest.skip("the query plans read here are SQLite's")
    token = await asked_family(settings)

    with counting_statements() as counted:
        answered = await broadcasts.answer_by_token(token, 1)

    assert answered is not None and {a.choice for a in answered.answers.values()} == {1}
    assert len(answered.answers) == 2
    found = await plans(counted.statements)
    assert scans(found) == {}
    sent_to = [plan for s, plan in found.items() if s.startswith('SELECT 1 FROM "delivery"')]
    assert sent_to and all("guardian_id=?" in plan for plan in sent_to)


async def test_finding_the_unanswered_reads_each_familys_children_by_index(settings, is_postgres) -> None:
    """Escalation (every 30 s) and the status page ask who has a child unanswered: before, each
    thousand guardians read every pupil of the city (17 s a page at 100,000 answers)."""
    if is_postgres:
        pytest.skip("the query plans read here are SQLite's")
    await asked_family(settings)
    broadcast = await Broadcast.get()
    guardians = await Guardian.all().values_list("id", flat=True)

    with counting_statements() as counted:
        waiting = await broadcasts.unanswered_guardians(broadcast, guardians)

    assert waiting == {max(guardians)}  # the family with two children, the one not answered yet
    per_family = {s: plan for s, plan in (await plans(counted.statements)).items() if "guardian_pupil" in s}
    assert per_family and scans(per_family) == {}
