"""Passage notices during a city-wide alert that carriers throttle: ``python bench/mail_pacing.py``.

Seeds guardians with one or two mail addresses, 40 % of them at docomo, au and softbank; an
aiosmtpd sink in another process takes only ``--carrier-rate`` mails a second to each of those
groups and answers 421 to the rest, as a carrier's MX or a relay's rate limit does. A city-wide
alert is confirmed (the worker fans it out while sending, as in service) and, while it is still
sending, passage notices to carrier addresses are queued at ``--passages-per-second``. Printed: the
time from a passage notice's enqueue to its acceptance at the sink (p50, p99, max; goal: p99 under
5 s) and the alert's total time (confirm to its last mail sent). Then the same again, to the same
guardians, with pacing off (``DeliveryWorker(paced=False)``: one unpaced line per group, a 421
retried on the retry schedule), in the same run against the same sink.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise.functions import Max  # noqa: E402

from core import broadcasts, sealing  # noqa: E402
from core.channels.email import CARRIER_DOMAINS  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.delivery import wakeup  # noqa: E402
from core.delivery.outbox import Priority, enqueue  # noqa: E402
from core.delivery.worker import DeliveryWorker  # noqa: E402
from core.event_loop import freeze_startup_objects, run  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    Channel,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    NoticeKind,
)
from core.scheduler import drain  # noqa: E402
from mail.smtp import SmtpTransport  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from broadcast_email import _exit_if_dead, _free_port, _seed, bench_settings, city_wide_alert  # noqa: E402

# of every 20 addresses: 4 docomo, 2 au, 2 softbank (40 %), the rest at a city's own domains
DOMAINS = ("docomo.ne.jp",) * 4 + ("ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp") + ("example.jp",) * 12
CARRIERS = {domain: group for group in ("docomo", "au", "softbank") for domain in CARRIER_DOMAINS[group]}
_MESSAGE_ID = re.compile(rb"Message-ID: <mimamori-(\d+)-", re.IGNORECASE)


def _sink(port: int, carrier_rate: int, ready, requests) -> None:  # noqa: ANN001 - runs in its own process
    """Accepts ``carrier_rate`` RCPTs a second to each carrier group, 421 beyond; answers
    ``requests`` (a pipe) with the acceptance times of the delivery ids asked for."""
    from aiosmtpd.controller import Controller

    accepted: dict[int, float] = {}
    windows: dict[str, tuple[int, int]] = {}

    class Throttling:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
            group = CARRIERS.get(address.rpartition("@")[2])
            if group is not None:
                second = int(time.time())
                at, count = windows.get(group, (second, 0))
                count = count if at == second else 0
                if count >= carrier_rate:
                    return "421 4.7.0 Too many messages, try again later"
                windows[group] = (second, count + 1)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            found = _MESSAGE_ID.search(envelope.content[:4096])
            if found:
                accepted[int(found[1])] = time.time()
            return "250 OK"

    controller = Controller(Throttling(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        ids = requests.recv()
        requests.send([accepted.get(i) for i in ids])


@dataclass
class Run:
    broadcast_seconds: float
    mails: int
    deferred: int  # alert mails that waited for another try at least once
    latencies: list[float]
    lost: int  # passage notices never accepted


async def _seeded(guardians: int) -> list[int]:
    """Guardians with one or two addresses, 40 % at the carriers; the carrier addresses' ids."""
    await _seed(guardians, DOMAINS)
    return list(
        await ContactAddress.filter(lane__in=list(CARRIERS.values())).values_list("id", flat=True)  # type: ignore[arg-type]
    )


async def _passages(broadcast_id: int, carrier_ids: list[int], per_second: float, queued_at: dict[int, float]) -> None:
    """Passage notices to carrier addresses, one every 1/``per_second`` s, while the alert sends."""
    rng = random.Random(17)
    pick = await ContactAddress.filter(id__in=rng.sample(carrier_ids, min(2000, len(carrier_ids))))
    n = 0
    next_at = time.monotonic()
    while n % round(per_second) or await _sending(broadcast_id):  # asked about twice a second
        n += 1
        now = datetime.now(UTC)
        queued = await enqueue(
            kind=NoticeKind.PASSAGE,
            fact=f"passage:bench-{broadcast_id}-{n}",
            address=pick[n % len(pick)],
            priority=Priority.TRANSACTIONAL,
            payload={"pupil": "花子", "site": "みどり小学校", "direction": "arrival", "seen_at": now.isoformat()},
            expires_at=now + timedelta(hours=1),
        )
        assert queued is not None
        queued_at[queued.id] = time.time()
        wakeup.notices_queued()  # as a recorded passage does
        next_at += 1 / per_second
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def _sending(broadcast_id: int) -> bool:
    return (
        await broadcasts.fanout_pending()
        or await Delivery.filter(
            broadcast_id=broadcast_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
        ).exists()
    )


async def _run(settings: Settings, carrier_ids: list[int], per_second: float, requests, *, paced: bool) -> Run:  # noqa: ANN001
    alert = await city_wide_alert()
    freeze_startup_objects()
    queued_at: dict[int, float] = {}
    started = datetime.now(UTC)
    await broadcasts.confirm(alert.id, by=None)
    injecting = asyncio.create_task(_passages(alert.id, carrier_ids, per_second, queued_at))
    transport = SmtpTransport(settings.smtp)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.EMAIL: transport}, paced=paced), timeout=7200)
        await injecting
        # the notices queued while the last of the alert was being recorded
        await drain(settings, DeliveryWorker(settings, {Channel.EMAIL: transport}, paced=paced), timeout=600)
    finally:
        await transport.close()
    [last] = await Delivery.filter(broadcast_id=alert.id).annotate(last=Max("sent_at")).values_list("last", flat=True)
    mails = await Delivery.filter(broadcast_id=alert.id).count()
    deferred = await Delivery.filter(broadcast_id=alert.id, attempts__gt=1).count()
    ids = list(queued_at)
    requests.send(ids)
    accepted = requests.recv()
    latencies = [done - queued_at[i] for i, done in zip(ids, accepted, strict=True) if done is not None]
    return Run((last - started).total_seconds(), mails, deferred, latencies, sum(a is None for a in accepted))


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _report(name: str, result: Run) -> None:
    lat = result.latencies
    print(f"{name:<8} alert: {result.mails} mails in {result.broadcast_seconds:.1f} s, {result.deferred} deferred")
    if lat:
        print(
            f"{'':<8} passage notices: {len(lat)} accepted, {result.lost} not; enqueue to acceptance "
            f"p50 {_percentile(lat, 50):.2f} s, p99 {_percentile(lat, 99):.2f} s, max {max(lat):.2f} s"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guardians", type=int, default=100_000)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--carrier-rate", type=int, default=100, help="mails a second the sink takes per carrier")
    parser.add_argument("--lane-rate", type=float, default=150, help="the carriers' configured rate (learned down)")
    parser.add_argument("--passages-per-second", type=float, default=50)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    port = _free_port()
    ready = multiprocessing.Event()
    requests, answers = multiprocessing.Pipe()
    sink = multiprocessing.Process(target=_sink, args=(port, args.carrier_rate, ready, answers), daemon=True)
    sink.start()
    if not ready.wait(30):
        sys.exit(f"the SMTP sink did not start on port {port}")
    watchdog = asyncio.create_task(_exit_if_dead(sink))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    lane = {"concurrency": 2, "rate_per_second": args.lane_rate}
    settings = bench_settings(work, url, port, args.connections, lanes={"docomo": lane, "au": lane, "softbank": lane})
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    load = os.getloadavg()[0]
    try:
        carrier_ids = await _seeded(args.guardians)
        print(f"seeded {args.guardians} guardians, {len(carrier_ids)} carrier addresses", file=sys.stderr, flush=True)
        paced = await _run(settings, carrier_ids, args.passages_per_second, requests, paced=True)
        unpaced = await _run(settings, carrier_ids, args.passages_per_second, requests, paced=False)
    finally:
        await close_database()
    watchdog.cancel()
    sink.terminate()

    print(f"database               {url.split(':')[0]}; load {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(
        f"guardians              {args.guardians}; the sink takes {args.carrier_rate}/s per carrier group, "
        f"configured {args.lane_rate:g}/s; {args.passages_per_second:g} passage notices/s to carrier addresses"
    )
    _report("paced", paced)
    _report("unpaced", unpaced)
    if paced.latencies:
        print(f"p99 goal               under 5 s while the alert sends: {_percentile(paced.latencies, 99):.2f} s")
    print(f"alert paced / unpaced  {paced.broadcast_seconds / unpaced.broadcast_seconds:.2f}x the time")


if __name__ == "__main__":
    run(main())
