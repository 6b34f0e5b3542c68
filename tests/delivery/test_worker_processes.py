"""Delivery workers as separate processes, as deployed: two at once share the queue (a worker
killed mid-broadcast is in ``tests/faults/test_worker_killed.py``)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from core.models import Delivery, DeliveryStatus
from tests.delivery.conftest import city_wide_broadcast, start_worker, wait_until_all_sent


async def test_two_workers_share_one_queue_and_send_each_notice_once(
    database_url, passwords, settings, cli_env, mail_sink, tmp_path
) -> None:
    addresses = await city_wide_broadcast(passwords, settings, 300)
    log = tmp_path / "workers.log"
    workers = [start_worker(cli_env, mail_sink, log, MIMAMORI_DELIVERY__BATCH_SIZE="20") for _ in range(2)]
    try:
        await wait_until_all_sent()
        # both must be up (signal handlers installed) before SIGTERM: one may still be starting
        for _ in range(600):
            if log.read_text().count("delivery worker sending on") >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=30) for worker in workers]
    assert codes == [0, 0], log.read_text()
    outcomes = Counter(await Delivery.all().values_list("status", "last_error"))
    # Seen once in a fresh-clone CI run on PostgreSQL: nothing at the sink, every row settled.
    # Saying how they settled, and what the workers logged, is what the next person needs.
    assert mail_sink.per_recipient() == {address: 1 for address in addresses}, (outcomes, log.read_text()[-3000:])
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(addresses)
