"""The staff's tally of a city-wide 安否確認 at 100,000 answers: ``python bench/tally_page.py --pupils 120000``.

Seeds the city of ``families`` (``--pupils`` pupils, one in five families with two children),
confirms the safety question to the whole city and fans it out in-process, marks every delivery
sent, and bulk-inserts ``--answers`` answers (most "safe", some needing help) with their history.
Then an administrator loads the broadcast's status page (``/staff/broadcasts/<id>``: the delivery
counts and lists of ``core.broadcasts.status``, and the live tally) ``--loads`` times over ASGI, in
this process: time and CPU per page load, median and worst, against a bare count of the same
answers by choice (the least a tally must read). Then the page's parts alone, and what the tally's
other pages read: ``status()``, ``tally()``, the first "needs help" pupils, the first page of the
unanswered, and the CSV export written whole. ``--profile FILE`` writes a cProfile of one more
page load to FILE and prints its top entries by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from broadcast_email import _cpu  # noqa: E402
from families import choice_of, load, safety_check, seed_families  # noqa: E402

from core import broadcasts, sealing  # noqa: E402
from core.broadcasts.answer_sheet import answer_sheet  # noqa: E402
from core.broadcasts.tally import Show, tally  # noqa: E402
from core.broadcasts.tally import pupils as tally_pupils  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import close_database, connection, open_database, upgrade_schema  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    Broadcast,
    BroadcastAnswer,
    BroadcastAnswerChange,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    StaffRole,
)
from core.passwords import Passwords  # noqa: E402
from portal.app import create_app  # noqa: E402
from tests.browser import Browser  # noqa: E402
from tests.portal.conftest import log_in_staff, staff_account  # noqa: E402


async def _answered(broadcast_id: int, answers: int, at: datetime) -> int:
    """``answers`` pupils answered for by one of their guardians, each answer with its history row."""
    rows = await connection().execute_query_dict(
        "SELECT pupil_id, MIN(guardian_id) AS guardian_id FROM guardian_pupil GROUP BY pupil_id ORDER BY pupil_id"
    )
    rows = rows[:answers]
    for start in range(0, len(rows), 5000):
        chunk = list(enumerate(rows[start : start + 5000], start))
        fields = [
            {
                "broadcast_id": broadcast_id,
                "pupil_id": row["pupil_id"],
                "guardian_id": row["guardian_id"],
                "choice": choice_of(n),
                "channel": "email",
                "answered_at": at + timedelta(seconds=n / 100),
            }
            for n, row in chunk
        ]
        await BroadcastAnswer.bulk_create([BroadcastAnswer(**f) for f in fields])
        await BroadcastAnswerChange.bulk_create([BroadcastAnswerChange(**f) for f in fields])
    return len(rows)


async def _timed(load_once: Callable[[], Awaitable[object]], times: int) -> tuple[list[float], list[float]]:
    await load_once()  # warm: templates compiled, caches filled, as in service
    walls, cpus = [], []
    for _ in range(times):
        started, cpu = time.perf_counter(), _cpu()
        await load_once()
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu() - cpu)
    return walls, cpus


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=120_000)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of one page load to FILE")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    settings = load_settings(None, data_dir=work, database_url=url, keyring=str(work / "keyring.json"))
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    app = create_app(settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=600)
    try:
        started = time.perf_counter()
        _, pupils = await seed_families(round(args.pupils / 1.2))
        draft = await safety_check()
        await broadcasts.confirm(draft.id, by=None)
        while await Broadcast.filter(id=draft.id, status=BroadcastStatus.CONFIRMED).exists():
            await broadcasts.continue_fanouts(settings)
        now = datetime.now(UTC)
        await Delivery.filter(broadcast_id=draft.id).update(status=DeliveryStatus.SENT, sent_at=now)
        answers = await _answered(draft.id, args.answers, now)
        await connection().execute_script("ANALYZE")
        deliveries = await Delivery.filter(broadcast_id=draft.id).count()
        print(
            f"seeded {pupils} pupils, {deliveries} deliveries, {answers} answers "
            f"in {time.perf_counter() - started:.0f} s; {load()}",
            file=sys.stderr,
            flush=True,
        )
        browser = Browser(client)
        admin = await staff_account(Passwords(settings.accounts, sealing.installed()), "kyoiku", StaffRole.ADMIN)
        await log_in_staff(browser, admin)
        pages: list[httpx.Response] = []

        async def page() -> None:
            pages.append(await browser.get(f"/staff/broadcasts/{draft.id}"))

        async def bare() -> None:
            await connection().execute_query_dict(
                "SELECT choice, COUNT(*) AS n FROM broadcast_answer WHERE broadcast_id = "
                f"{int(draft.id)} GROUP BY choice"
            )

        walls, cpus = await _timed(page, args.loads)
        bare_walls, _ = await _timed(bare, args.loads)
        broadcast = await Broadcast.get(id=draft.id)

        async def whole_sheet() -> None:
            sheet.append(sum([len(piece) async for piece in answer_sheet(broadcast, school_ids=None)]))

        sheet: list[int] = []
        parts = {
            "status() alone": lambda: broadcasts.status(draft.id, viewer=admin),
            "tally() alone": lambda: tally(broadcast),
            "needs help, first 20": lambda: tally_pupils(broadcast, Show.NEEDS_HELP, viewer=admin, limit=20),
            "unanswered, first page": lambda: tally_pupils(broadcast, Show.UNANSWERED, viewer=admin),
        }
        timed_parts = {name: await _timed(part, args.loads) for name, part in parts.items()}
        timed_parts["CSV, whole"] = await _timed(whole_sheet, 1)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await page()
            profiler.disable()
            profiler.dump_stats(args.profile)
    finally:
        await client.aclose()
        await close_database()

    errors = [r.status_code for r in pages if r.status_code != 200 or "地震発生" not in r.text]
    median = statistics.median(walls)
    print(f"database               {url.split(':')[0]}")
    print(f"city                   {pupils} pupils, {deliveries} deliveries sent, {answers} answers")
    print(
        f"status page (tally)    median {median * 1000:,.0f} ms, worst {max(walls) * 1000:,.0f} ms over "
        f"{args.loads} loads; CPU {statistics.median(cpus) * 1000:,.0f} ms per load; "
        f"{len(pages[-1].content):,} bytes; errors {len(errors)} {errors or ''}"
    )
    print(f"bare count by choice   median {statistics.median(bare_walls) * 1000:,.1f} ms")
    print(f"page / bare            {median / statistics.median(bare_walls):,.0f}x")
    for name, (part_walls, part_cpus) in timed_parts.items():
        print(
            f"{name:<22} median {statistics.median(part_walls) * 1000:,.0f} ms, "
            f"CPU {statistics.median(part_cpus) * 1000:,.0f} ms ({statistics.median(part_walls) / median:.0%} of the page)"
        )
    print(f"CSV size               {sheet[-1] / 1e6:.1f} MB")
    print(f"machine                {load()}")
    if args.profile:
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(r"/(core|portal)/", 25)


if __name__ == "__main__":
    asyncio.run(main())
