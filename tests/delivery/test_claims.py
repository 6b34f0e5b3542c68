"""Claiming from a long queue on PostgreSQL: the server reads the rows it claims, not the whole
queue, even when its statistics are stale (as they are while a broadcast fills the queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from core.db import connection
from core.delivery.claims import claim_batch
from core.models import Channel


async def test_a_claim_reads_the_rows_it_claims_not_the_whole_queue(database_url, is_postgres) -> None:
    if not is_postgres:
        pytest.skip("about PostgreSQL's planner; SQLite's one claimer walks the index")
    sent, queued = 20_000, 5_000  # never analysed: the planner guesses one queued row
    await connection().execute_script(
        "INSERT INTO delivery (idempotency_key, kind, channel, priority, status, attempts, next_attempt_at, queued_at) "
        f"SELECT 'k' || n, 'broadcast', 'email', 0, CASE WHEN n <= {sent} THEN 'sent' ELSE 'queued' END, 0, "
        f"now() - interval '1 minute', now() FROM generate_series(1, {sent + queued}) AS n"
    )
    async with in_transaction() as transaction:
        claimed = await claim_batch([Channel.EMAIL], limit=10, lease=timedelta(minutes=1), now=datetime.now(UTC))
        [read] = await transaction.execute_query_dict(
            "SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) AS entries FROM pg_index "
            "WHERE indrelid = 'delivery'::regclass"
        )
    assert [row.idempotency_key for row in claimed] == [f"k{n}" for n in range(sent + 1, sent + 11)]
    # 10 from the queue's index and 10 by primary key; a sorted bitmap scan reads all 5,000
    assert read["entries"] <= 40
