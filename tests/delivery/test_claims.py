"""Claiming: the most urgent first, none from a lane the worker has no room for (and no bulk from
a lane full of bulk); on PostgreSQL from a long queue the server reads the rows it claims, not the
whole queue, even when its statistics are stale (as they are while a broadcast fills the queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from core.db import connection, insert_rows
from core.delivery.claims import claim_batch
from core.models import Channel, Delivery, NoticeKind, Priority


async def test_a_claim_skips_full_lanes_and_only_the_bulk_of_lanes_full_of_bulk(database_url) -> None:
    due = datetime.now(UTC) - timedelta(seconds=1)
    await insert_rows(
        Delivery,
        [
            {"idempotency_key": key, "kind": kind, "channel": Channel.EMAIL, "lane": lane, "priority": priority}
            | {"next_attempt_at": due}
            for key, kind, lane, priority in [
                ("docomo-alert", NoticeKind.BROADCAST, "docomo", Priority.URGENT),
                ("docomo-passage", NoticeKind.PASSAGE, "docomo", Priority.TRANSACTIONAL),
                ("gmail-passage", NoticeKind.PASSAGE, "gmail", Priority.TRANSACTIONAL),
                ("gmail-alert", NoticeKind.BROADCAST, "gmail", Priority.URGENT),
                ("au-staff", NoticeKind.STAFF, "au", Priority.LOW),
                ("other-alert", NoticeKind.BROADCAST, "other", Priority.NORMAL),
            ]
        ],
    )

    claimed = await claim_batch(
        [Channel.EMAIL],
        limit=10,
        lease=timedelta(minutes=1),
        now=datetime.now(UTC),
        skip_lanes=["gmail"],  # the worker holds all it can of gmail's
        skip_bulk_lanes=["docomo", "au"],  # and all it can of their bulk: a passage still goes
    )

    assert [row.idempotency_key for row in claimed] == ["docomo-passage", "other-alert"]
    left = await claim_batch([Channel.EMAIL], limit=10, lease=timedelta(minutes=1), now=datetime.now(UTC))
    assert [row.idempotency_key for row in left] == ["gmail-passage", "docomo-alert", "gmail-alert", "au-staff"]


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
        claimed = await claim_batch(
            [Channel.EMAIL],
            limit=10,
            lease=timedelta(minutes=1),
            now=datetime.now(UTC),
            skip_lanes=["docomo"],  # filters on the walk: the index is still read in order
            skip_bulk_lanes=["au"],
        )
        [read] = await transaction.execute_query_dict(
            "SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) AS entries FROM pg_index "
            "WHERE indrelid = 'delivery'::regclass"
        )
    assert [row.idempotency_key for row in claimed] == [f"k{n}" for n in range(sent + 1, sent + 11)]
    # 10 from the queue's index and 10 by primary key; a sorted bitmap scan reads all 5,000
    assert read["entries"] <= 40
