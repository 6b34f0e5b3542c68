"""``mimamori worker`` SIGKILLed in the middle of an alert, then started again: nothing is lost,
and what is sent twice is only what had been sent and not yet recorded.

The bound, from ``core/delivery/worker.py``: a consumer appends each outcome to the worker's
results as its send returns; the flusher records them every ``FLUSH_SECONDS`` (0.1 s), or at once
when ``batch_size`` are waiting. Rows claimed but not yet sent (the channel queue holds up to
``max(4 × connections, 2 × batch_size)`` items) are only leased: after the lease they are queued
again and sent once. So a kill re-sends at most the outcomes gathered since the last flush began,
plus those the flush was writing, plus one per connection whose reply had come but not its
append: at a send rate ``r``, ``min(batch_size, r × FLUSH_SECONDS) + r × (one flush) + connections``
— and never more than the rows left ``sending``.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from core.config import Settings
from core.delivery.worker import FLUSH_SECONDS
from core.models import Delivery, DeliveryStatus
from core.passwords import Passwords
from tests.delivery.conftest import city_wide_broadcast, start_worker, wait_until_all_sent
from tests.faults.conftest import lost_and_duplicated
from tests.mailsink import MailSink

RATE = 150.0  # mails a second, so the kill lands mid-broadcast on any machine
CONNECTIONS = 4
ONE_FLUSH = 0.25  # seconds one record_outcomes transaction may take on a loaded 2-core machine
LEASE = 5


def duplicate_bound(rate: float, batch_size: int = 200) -> int:
    """The most a kill can send twice at ``rate`` sends a second (see the module's docstring)."""
    return int(min(batch_size, rate * FLUSH_SECONDS) + rate * ONE_FLUSH + CONNECTIONS)


@pytest.mark.slow
async def test_a_worker_killed_mid_broadcast_loses_nothing_and_repeats_only_the_unrecorded(
    database_url: str,
    passwords: Passwords,
    settings: Settings,
    cli_env: dict[str, str],
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    addresses = await city_wide_broadcast(passwords, settings, 400)
    log = tmp_path / "worker.log"
    worker = start_worker(
        cli_env, mail_sink, log, MIMAMORI_SMTP__RATE_PER_SECOND=str(RATE), MIMAMORI_SMTP__CONNECTIONS=str(CONNECTIONS)
    )
    mail_sink.wait_for(len(addresses) // 3)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    killed = time.monotonic()
    in_flight = await Delivery.filter(status=DeliveryStatus.SENDING).count()
    delivered_before = len(mail_sink.received)
    assert delivered_before < len(addresses), "the broadcast finished before the kill"

    restarted = start_worker(cli_env, mail_sink, log, MIMAMORI_SMTP__CONNECTIONS=str(CONNECTIONS))
    try:
        await wait_until_all_sent(timeout=90)
        recovered = time.monotonic() - killed
    finally:
        restarted.send_signal(signal.SIGTERM)
        code = restarted.wait(timeout=30)
    assert code == 0, log.read_text()

    lost, duplicated = lost_and_duplicated(mail_sink, addresses)
    bound = duplicate_bound(RATE)
    print(
        f"\nworker SIGKILLed after {delivered_before} of {len(addresses)} mails, {in_flight} claimed "
        f"unrecorded: lost {lost}, duplicated {duplicated} ({duplicated / len(addresses):.1%}; bound "
        f"{bound} at {RATE:.0f}/s), all sent {recovered:.1f} s after the kill (lease {LEASE} s)"
    )
    assert lost == 0
    assert duplicated <= min(in_flight, bound)
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(addresses)
    assert recovered <= LEASE + 30
