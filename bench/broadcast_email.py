"""A city-wide broadcast by mail, end to end: ``python bench/broadcast_email.py --guardians 100000``.

Seeds guardians with one or two mail addresses, starts an aiosmtpd sink in a separate process,
confirms a city-wide broadcast (the worker fans it out while sending, as in service) and measures
fan-out time, delivered messages per second (confirm to the last message accepted by the sink)
and peak memory. In the same run, to the same sink:
(a) the ceiling -- prebuilt message bytes pushed with aiosmtplib over the same number of
connections, no database; (b) a naive smtplib loop with one connection per message; (c) Apprise's
mailto, if installed. Prints our rate against each. With ``--dkim`` a second broadcast to the same
guardians follows with every mail DKIM-signed (RSA-2048), and its CPU per message is printed
against the first's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import resource
import smtplib
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtplib import SMTP  # noqa: E402

from core import broadcasts, sealing  # noqa: E402
from core.channels.email import lane as mail_lane  # noqa: E402
from core.config import Settings, load_settings  # noqa: E402
from core.db import close_database, connection, open_database, upgrade_schema  # noqa: E402
from core.delivery.broadcast_message import broadcast_context  # noqa: E402
from core.delivery.render import RenderedNotice, render  # noqa: E402
from core.delivery.worker import DeliveryWorker  # noqa: E402
from core.event_loop import freeze_startup_objects, run  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    AddressStatus,
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    ContactAddress,
    Delivery,
    Guardian,
    Language,
    NoticeKind,
)
from core.scheduler import drain  # noqa: E402
from mail.message import build_message  # noqa: E402
from mail.smtp import SmtpTransport  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


GOAL_MESSAGES = 100_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _exit_if_dead(sink: multiprocessing.Process) -> None:
    """Without its sink the run would retry for an hour: say so and stop instead."""
    while sink.is_alive():
        await asyncio.sleep(1)
    print(f"the SMTP sink stopped (exit code {sink.exitcode}); no figures", file=sys.stderr, flush=True)
    os._exit(1)


def _sink(port: int, counter, ready) -> None:  # runs in its own process
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def bench_settings(work: Path, url: str, port: int, connections: int, **smtp: Any) -> Settings:
    """A benchmark's settings: its files in ``work``, its mail to the sink at ``port``."""
    return load_settings(
        None,
        data_dir=work,
        database_url=url,
        keyring=str(work / "keyring.json"),
        smtp={
            "host": "127.0.0.1",
            "port": port,
            "connections": connections,
            "from_address": "mimamori@city.example.jp",
            **smtp,
        },
    )


async def _seed(guardians: int, domains: tuple[str, ...] = ("example.jp",)) -> int:
    """Guardians, every fourth with two mail addresses, at ``domains`` in turn; returns how many."""
    sealer = sealing.installed()
    batch = 5000
    for start in range(0, guardians, batch):
        await Guardian.bulk_create(
            [
                Guardian(login_id=f"B{n:08d}", name=f"保護者 {n}", name_index=f"{n:064x}", password_hash="x")
                for n in range(start, min(start + batch, guardians))
            ]
        )
    ids = await Guardian.all().order_by("id").values_list("id", flat=True)
    addresses = []
    now = datetime.now(UTC)
    for n, guardian_id in enumerate(ids):
        for slot in (1, 2) if n % 4 == 0 else (1,):
            value = f"g{n}.{slot}@{domains[len(addresses) % len(domains)]}"
            addresses.append(
                ContactAddress(
                    guardian_id=guardian_id,
                    channel=Channel.EMAIL,
                    value=value,
                    value_index=sealer.blind_index("address:email", value),
                    lane=mail_lane(value),
                    slot=slot,
                    status=AddressStatus.ACTIVE,
                    verified_at=now,
                )
            )
    await ContactAddress.bulk_create(addresses, batch_size=5000)
    # a database in service has statistics (autovacuum keeps them); one seeded a moment ago has none
    await connection().execute_script("ANALYZE")
    return len(addresses)


async def city_wide_alert() -> Broadcast:
    """A disaster alert to every guardian, confirmed by nobody yet (the benchmarks' one alert)."""
    return await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="大雨のため臨時休校",
        body="本日は大雨のため臨時休校とします。\n自宅で安全に過ごしてください。",
        ack_requested=False,
    )


async def _ours(
    settings, counter, alert: Callable[[], Awaitable[Broadcast]] = city_wide_alert
) -> tuple[int, float, float, float, float | None, RenderedNotice]:
    draft = await alert()
    freeze_startup_objects()  # as `mimamori worker` and `serve` do once started
    start_count = counter.value
    started, cpu = time.perf_counter(), _cpu()
    await broadcasts.confirm(draft.id, by=None)
    # as in service: the worker fans the confirmed broadcast out and sends what is queued meanwhile
    fanned_out = asyncio.create_task(_fanned_out(draft.id, started))
    hundred_thousand = asyncio.create_task(_accepted(counter, start_count + GOAL_MESSAGES, started))
    transport = SmtpTransport(settings.smtp)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.EMAIL: transport}), timeout=3600)
    finally:
        await transport.close()
    fanout = await fanned_out
    expected = await Delivery.filter(broadcast_id=draft.id).count()
    while counter.value - start_count < expected:
        await asyncio.sleep(0.01)
    total = time.perf_counter() - started
    goal_time = hundred_thousand.result() if hundred_thousand.done() else None
    hundred_thousand.cancel()
    our_cpu = _cpu() - cpu
    notice = render(
        NoticeKind.BROADCAST,
        Channel.EMAIL,
        Language.JA,
        broadcast_context(draft, settings, ack_token=None, channel=Channel.EMAIL),
    )
    return expected, fanout, total, our_cpu, goal_time, notice


async def _accepted(counter, count: int, started: float) -> float:
    """Seconds from confirm until the sink has accepted ``count`` messages in all."""
    while counter.value < count:
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def _fanned_out(broadcast_id: int, started: float) -> float:
    """Seconds from confirm until every delivery of the broadcast is queued."""
    while await Broadcast.filter(id=broadcast_id, status=BroadcastStatus.CONFIRMED).exists():
        await asyncio.sleep(0.05)
    fanout = time.perf_counter() - started
    print(
        f"fan-out: {await Delivery.filter(broadcast_id=broadcast_id).count()} deliveries queued in {fanout:.1f} s, "
        "while the first were already being sent",
        file=sys.stderr,
        flush=True,
    )
    return fanout


async def _ceiling(port: int, connections: int, messages: int, counter, notice: RenderedNotice) -> tuple[float, float]:
    """The same mail as ours, built beforehand, one per recipient."""
    data = [
        build_message(
            notice,
            to=f"c{n}@example.jp",
            from_address="m@city.example.jp",
            message_id=f"<c{n}@x>",
            date=datetime.now(UTC),
        )
        for n in range(messages)
    ]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(messages):
        queue.put_nowait(n)
    start_count = counter.value
    started, cpu = time.perf_counter(), _cpu()

    async def pusher() -> None:
        async with SMTP(hostname="127.0.0.1", port=port, start_tls=False) as client:
            while not queue.empty():
                n = queue.get_nowait()
                await client.sendmail("m@city.example.jp", [f"c{n}@example.jp"], data[n])

    await asyncio.gather(*(pusher() for _ in range(connections)))
    while counter.value - start_count < messages:
        await asyncio.sleep(0.01)
    return messages / (time.perf_counter() - started), (_cpu() - cpu) / messages


def _naive(port: int, messages: int) -> float:
    notice = RenderedNotice(
        "【災害情報】大雨のため臨時休校", "本日は大雨のため臨時休校とします。" * 4, "<p>html</p>" * 20
    )
    started = time.perf_counter()
    for n in range(messages):
        data = build_message(
            notice,
            to=f"n{n}@example.jp",
            from_address="m@city.example.jp",
            message_id=f"<n{n}@x>",
            date=datetime.now(UTC),
        )
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("m@city.example.jp", [f"n{n}@example.jp"], data)
    return messages / (time.perf_counter() - started)


def _apprise(port: int, messages: int) -> float | None:
    try:
        import apprise
    except ImportError:
        return None
    sender = apprise.Apprise()
    started = time.perf_counter()
    for n in range(messages):
        sender.clear()
        sender.add(f"mailto://user:pass@127.0.0.1:{port}?to=a{n}@example.jp&from=m@city.example.jp&mode=insecure")
        sender.notify(title="【災害情報】大雨のため臨時休校", body="本日は大雨のため臨時休校とします。")
    return messages / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guardians", type=int, default=100_000)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--ceiling-messages", type=int, default=20_000)
    parser.add_argument("--naive-messages", type=int, default=1_000)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of our run (fan-out and sending) to FILE")
    parser.add_argument("--dkim", action="store_true", help="then the same broadcast again, every mail DKIM-signed")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    port = _free_port()
    counter, ready = multiprocessing.Value("q", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, counter, ready), daemon=True)
    sink.start()
    if not ready.wait(30):
        sys.exit(f"the SMTP sink did not start on port {port}")
    watchdog = asyncio.create_task(_exit_if_dead(sink))

    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    settings = bench_settings(work, url, port, args.connections, bounce_domain="bounce.city.example.jp")
    keyring = Keyring.open(settings.keyring, create=True)
    keyring.add_dkim_key()
    sealing.install(sealing.Sealer(keyring))
    await upgrade_schema(url)
    await open_database(url)
    try:
        seeded = time.perf_counter()
        addresses = await _seed(args.guardians)
        seeded = time.perf_counter() - seeded
        memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"seeded {args.guardians} guardians, {addresses} addresses", file=sys.stderr, flush=True)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        messages, fanout, total, our_cpu, goal_time, notice = await _ours(settings, counter)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sent = await Delivery.filter(status="sent").count()
        signed = await _signed(settings, counter) if args.dkim else None
    finally:
        await close_database()
    ours = messages / total
    ceiling, ceiling_cpu = await _ceiling(port, args.connections, min(args.ceiling_messages, messages), counter, notice)
    naive = _naive(port, args.naive_messages)
    apprise_rate = _apprise(port, min(args.naive_messages, 200))
    watchdog.cancel()
    sink.terminate()

    print(f"database               {url.split(':')[0]}")
    print(f"guardians / messages   {args.guardians} / {messages} (seeded in {seeded:.1f} s)")
    print(f"fan-out                {fanout:.1f} s (by the worker, while it sends)")
    print(f"delivered              {sent} in {total:.1f} s")
    if goal_time is not None:
        print(f"first 100,000 accepted {goal_time:.1f} s after the confirm (goal: under 60 s)")
    print(f"ours                   {ours:,.0f} messages/s")
    print(f"ceiling (aiosmtplib)   {ceiling:,.0f} messages/s over {args.connections} connections, no database")
    print(f"naive smtplib          {naive:,.0f} messages/s (one connection per message)")
    print(f"apprise mailto         {'not installed' if apprise_rate is None else f'{apprise_rate:,.0f} messages/s'}")
    print(f"ours / ceiling         {ours / ceiling:.2f} (goal: at least 0.5)")
    print(
        f"CPU per message        ours {our_cpu / messages * 1e6:,.0f} µs (fan-out, database, rendering, SMTP), "
        f"ceiling {ceiling_cpu * 1e6:,.0f} µs (SMTP alone); the sink's CPU is not counted"
    )
    print(f"ours / naive           {ours / naive:.1f}x")
    if apprise_rate:
        print(f"ours / apprise         {ours / apprise_rate:.1f}x")
    print(f"peak memory            {peak:.0f} MB (after seeding {memory_before:.0f} MB; goal: under 300 MB)")
    if signed is not None:
        signed_messages, signed_total, signed_cpu = signed
        print(
            f"DKIM-signed broadcast  {signed_messages} in {signed_total:.1f} s, {signed_messages / signed_total:,.0f} "
            f"messages/s, CPU per message {signed_cpu / signed_messages * 1e6:,.0f} µs"
        )
        print(
            f"signed / unsigned      CPU per message {signed_cpu / signed_messages / (our_cpu / messages):.2f}x, "
            f"rate {signed_messages / signed_total / ours:.2f}x"
        )


async def _signed(settings, counter) -> tuple[int, float, float]:
    """The same broadcast again with every mail DKIM-signed: messages, seconds, CPU seconds."""
    signing = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"dkim": True})})
    messages, _, total, cpu, _, _ = await _ours(signing, counter)
    return messages, total, cpu


if __name__ == "__main__":
    run(main())  # on the service's event loop (uvloop), for ours and the ceiling alike
