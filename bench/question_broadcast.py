"""A city-wide 安否確認 against the plain alert, by mail: ``python bench/question_broadcast.py --guardians 100000``.

The city of ``families`` (100,000 guardians with 125,000 addresses, 120,000 pupils), an aiosmtpd
sink in another process, and ``broadcast_email``'s run (the worker fans out while it sends) done
``--rounds`` times for each: the plain alert, then the same alert asking the four-answer safety
question (every mail carrying its own answer link), in turn, so that both see the database grow
alike. Prints each run and the question's time and CPU per message against the plain alert's
(goal: within 10 %).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from broadcast_email import _exit_if_dead, _free_port, _ours, _sink, bench_settings, city_wide_alert  # noqa: E402
from families import load, safety_check, seed_families  # noqa: E402

from core import sealing  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.event_loop import run  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import Delivery  # noqa: E402

KINDS = {"plain alert": city_wide_alert, "question": safety_check}  # the question: 安否確認


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guardians", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternating")
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    parser.add_argument("--connections", type=int, default=4)
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
    settings = bench_settings(work, url, port, args.connections)
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    runs: dict[str, list[tuple[int, float, float]]] = {kind: [] for kind in KINDS}
    try:
        seeded = time.perf_counter()
        addresses, pupils = await seed_families(args.guardians)
        print(
            f"seeded {args.guardians} guardians, {addresses} addresses, {pupils} pupils "
            f"in {time.perf_counter() - seeded:.0f} s; {load()}",
            file=sys.stderr,
            flush=True,
        )
        for round_ in range(args.rounds):
            for kind, alert in KINDS.items():
                messages, _, total, cpu, _, _ = await _ours(settings, counter, alert)
                runs[kind].append((messages, total, cpu))
                print(
                    f"round {round_ + 1} {kind}: {messages} messages in {total:.1f} s, "
                    f"{cpu / messages * 1e6:,.0f} µs CPU each; {load()}",
                    file=sys.stderr,
                    flush=True,
                )
        tokens = await Delivery.filter(ack_token__isnull=False).count()
    finally:
        await close_database()
        watchdog.cancel()
        sink.terminate()

    def seconds(kind: str) -> float:
        return statistics.mean(total for _, total, _ in runs[kind])

    def cpu_per_message(kind: str) -> float:
        return statistics.mean(cpu / messages for messages, _, cpu in runs[kind])

    plain, question = KINDS
    print(f"database               {url.split(':')[0]}")
    print(f"guardians / addresses  {args.guardians} / {addresses} ({pupils} pupils)")
    for kind in KINDS:
        messages = runs[kind][0][0]
        print(
            f"{kind:<22} {seconds(kind):.1f} s for {messages} messages ({messages / seconds(kind):,.0f}/s), "
            f"CPU per message {cpu_per_message(kind) * 1e6:,.0f} µs (mean of {args.rounds})"
        )
    print(f"answer links carried   {tokens} (the question's mails, every round)")
    print(
        f"question / plain       time {seconds(question) / seconds(plain):.2f}x, "
        f"CPU per message {cpu_per_message(question) / cpu_per_message(plain):.2f}x (goal: at most 1.10)"
    )
    print(f"machine                {load()}")


if __name__ == "__main__":
    run(main())  # on the service's event loop (uvloop), as broadcast_email
