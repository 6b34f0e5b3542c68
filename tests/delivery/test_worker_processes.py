"""Delivery workers as separate processes, as deployed: killed mid-broadcast, or two at once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from core import broadcasts
from core.config import Settings
from core.models import BroadcastCategory, ContactAddress, Delivery, DeliveryStatus
from core.passwords import Passwords
from core.roster import import_roster
from mimamori.demo_city import demo_roster
from tests.conftest import REPO
from tests.mailsink import MailSink


async def _city_wide_broadcast(passwords: Passwords, settings: Settings, pupils: int) -> set[str]:
    await import_roster(demo_roster(["みどり小学校", "さくら小学校"], pupils), passwords=passwords,
                        max_addresses=2, actor="test")
    draft = await broadcasts.create_draft(
        author=None, scope=await broadcasts.parse_scope("all"), category=BroadcastCategory.DISASTER,
        title="大雨のため休校", body="本日は臨時休校とします。", ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    return {a.value for a in await ContactAddress.all()}


def _start_worker(cli_env: dict[str, str], sink: MailSink, log: Path, **settings: str) -> subprocess.Popen:
    env = {**cli_env, "MIMAMORI_SMTP__PORT": str(sink.port), "MIMAMORI_DELIVERY__LEASE_SECONDS": "5",
           "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05", "PYTHONPATH": str(REPO), **settings}
    return subprocess.Popen([sys.executable, "-m", "mimamori", "worker"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def _wait_until_all_sent(timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while await Delivery.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]).exists() \
            or not await Delivery.exists():
        assert time.monotonic() < deadline, "the workers did not finish"
        await _sleep(0.2)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def test_a_worker_killed_mid_broadcast_loses_nothing(
    database_url, passwords, settings, cli_env, mail_sink, tmp_path
) -> None:
    addresses = await _city_wide_broadcast(passwords, settings, 400)
    log = tmp_path / "worker.log"
    worker = _start_worker(cli_env, mail_sink, log, MIMAMORI_SMTP__RATE_PER_SECOND="150")
    mail_sink.wait_for(60)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    in_flight = await Delivery.filter(status=DeliveryStatus.SENDING).count()
    delivered_before = len(mail_sink.received)
    assert delivered_before < len(addresses), "the broadcast finished before the kill"

    restarted = _start_worker(cli_env, mail_sink, log)
    try:
        await _wait_until_all_sent()
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0, log.read_text()

    per_recipient = mail_sink.per_recipient()
    assert set(per_recipient) == addresses  # every address reached
    duplicates = sum(per_recipient.values()) - len(per_recipient)
    print(f"killed after {delivered_before} mails with {in_flight} claimed: {duplicates} sent twice")
    assert duplicates <= in_flight
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(addresses)


async def test_two_workers_share_one_queue_and_send_each_notice_once(
    database_url, passwords, settings, cli_env, mail_sink, tmp_path
) -> None:
    addresses = await _city_wide_broadcast(passwords, settings, 300)
    log = tmp_path / "workers.log"
    workers = [_start_worker(cli_env, mail_sink, log, MIMAMORI_DELIVERY__BATCH_SIZE="20") for _ in range(2)]
    try:
        await _wait_until_all_sent()
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
    assert mail_sink.per_recipient() == {address: 1 for address in addresses}
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(addresses)
