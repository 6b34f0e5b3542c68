"""The mail server away for 30 s while ``mimamori worker`` sends an alert: refusing connections,
answering 421 to every recipient, or hanging after DATA. Afterwards every address has the alert
exactly once, and every retry was spaced as ``core.delivery.retry.next_attempt`` says (a 421's
first ones as the recipients' group's pause says, ``core.delivery.pacing.Pace``)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.config import DeliverySettings, Settings
from core.delivery.pacing import Pace
from core.delivery.worker import THROTTLED_TRIES
from core.models import ContactAddress, Delivery, DeliveryStatus
from core.passwords import Passwords
from tests.delivery.conftest import city_wide_broadcast, start_worker, wait_until_all_sent
from tests.faults.conftest import AttemptLog, DeliverySampler, lost_and_duplicated
from tests.mailsink import MailSink

OUTAGE_SECONDS = 30.0
RETRY = DeliverySettings(retry_base_seconds=2, retry_max_seconds=8)
SMTP_TIMEOUT = 3.0
EARLY = 0.05  # clock rounding between the worker's timestamps and ours
LATE = 3.0  # poll interval, claim gap and our sampling, on a shared 2-core machine under load


def _refuse(sink: MailSink) -> Callable[[], None]:
    sink.stop()
    return lambda: sink.start()


def _answer_421(sink: MailSink) -> Callable[[], None]:
    sink.mode = "421"
    return lambda: setattr(sink, "mode", "accept")


def _hang(sink: MailSink) -> Callable[[], None]:
    sink.mode = "hang"
    return lambda: setattr(sink, "mode", "accept")


FAULTS = {"refused": _refuse, "421": _answer_421, "hang": _hang, "hang-past-the-lease": _hang}
LEASES = {"hang-past-the-lease": 5}  # seconds; the others keep the default (120 s)

# The worker claims up to a batch at once and queues it in memory, but sends only as fast as its
# connections allow; against a hanging server (each send waits the whole SMTP timeout) the rows at
# the back of that queue would outlive a short lease and be claimed a second time: the worker
# renews the leases it holds, so they are not.


def _ceiling(attempts: int) -> float:
    """The backoff's upper end after ``attempts`` tries, as the retry rule has it."""
    return min(RETRY.retry_max_seconds, RETRY.retry_base_seconds * 2 ** max(attempts - 1, 0))


def _check_spacing(log: AttemptLog, *, throttled: bool) -> None:
    """Each retry was scheduled within the rule's jitter range, and tried when due; a 421 asks for a
    slower pace, so its first retries come when the address's group sends again (``Pace.PAUSE``)."""
    claims = dict(log.claims)
    for after, retry_at, seen in log.retries:
        delay = retry_at.timestamp() - seen  # seen after the outcome was recorded: an underestimate
        if throttled and after < THROTTLED_TRIES:
            assert -0.5 <= delay <= Pace.PAUSE + EARLY, (after, delay)
        else:
            assert _ceiling(after) / 2 - 0.5 <= delay <= _ceiling(after) + EARLY, (after, delay)
        if after + 1 in claims:
            late = claims[after + 1] - retry_at.timestamp()
            assert -EARLY <= late <= LATE, f"attempt {after + 1} tried {late:+.2f} s from when it was due"


async def _all_received(sink: MailSink, addresses: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not addresses <= set(sink.per_recipient()):
        assert time.monotonic() < deadline, f"{len(addresses - set(sink.per_recipient()))} addresses never reached"
        await asyncio.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_mail_server_away_for_30_seconds_loses_nothing_and_retries_by_the_rule(
    fault: str,
    database_url: str,
    passwords: Passwords,
    settings: Settings,
    cli_env: dict[str, str],
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    restore = FAULTS[fault](mail_sink)
    addresses = await city_wide_broadcast(passwords, settings, 12)
    sampler = DeliverySampler().start()
    log = tmp_path / "worker.log"
    worker = start_worker(
        cli_env,
        mail_sink,
        log,
        MIMAMORI_DELIVERY__RETRY_BASE_SECONDS=str(RETRY.retry_base_seconds),
        MIMAMORI_DELIVERY__RETRY_MAX_SECONDS=str(RETRY.retry_max_seconds),
        MIMAMORI_SMTP__TIMEOUT_SECONDS=str(SMTP_TIMEOUT),
        MIMAMORI_DELIVERY__LEASE_SECONDS=str(LEASES.get(fault, 120)),
    )
    try:
        while not any(entry.claims for entry in sampler.logs.values()):
            assert worker.poll() is None, log.read_text()
            await asyncio.sleep(0.05)
        await asyncio.sleep(OUTAGE_SECONDS)
        assert not mail_sink.received, "mail got through the outage"
        restore()
        restored = time.monotonic()
        await _all_received(mail_sink, addresses, timeout=60)
        recovered = time.monotonic() - restored
        await wait_until_all_sent(timeout=30)
        await asyncio.sleep(0.3)  # the sampler's last look
    finally:
        await sampler.stop()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    assert code == 0, log.read_text()

    lost, duplicated = lost_and_duplicated(mail_sink, addresses)
    rows = await Delivery.all()
    tries = sorted(row.attempts for row in rows)
    print(
        f"\nSMTP {fault} for {OUTAGE_SECONDS:.0f} s, {len(addresses)} addresses: lost {lost}, "
        f"duplicated {duplicated}, all delivered {recovered:.1f} s after the server was back, "
        f"attempts per address {tries[0]}–{tries[-1]}"
    )
    assert (lost, duplicated) == (0, 0)
    assert all(row.status is DeliveryStatus.SENT for row in rows)
    # a 421 slows the recipients' group to its lowest pace (one mail every two seconds): fewer tries
    assert tries[0] >= (2 if fault == "421" else 4), "the outage did not make every address retry"
    # the last retry was due at most the cap after the server came back, then a send or a timeout
    assert recovered <= RETRY.retry_max_seconds + SMTP_TIMEOUT + LATE + 3
    value_of = {a.id: a.value for a in await ContactAddress.all()}
    for row in rows:
        assert len(sampler.logs[row.id].retries) == row.attempts - 1  # every retry was looked at
        _check_spacing(sampler.logs[row.id], throttled=fault == "421")
        # the sink saw each attempt the database counted (a refused connection never reaches it)
        at_sink = len(mail_sink.attempts_to(value_of[row.address_id]))
        assert at_sink == (1 if fault == "refused" else row.attempts), (row.id, at_sink, row.attempts)
