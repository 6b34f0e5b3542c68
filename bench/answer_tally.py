"""The live tally of a city-wide 安否確認: ``python bench/answer_tally.py [--pupils 120000] [--database-url postgres://…]``.

Seeds a city (``--schools`` schools, ``--pupils`` pupils, their guardians with one or two mail
addresses), a confirmed safety question sent to every guardian (one delivery per address, all
sent but for 2 % failed) and an answer for ``--answered`` of the pupils (10 % of them needing
help). Then times what the status page does: ``core.broadcasts.tally.tally`` (the counts per
school, grade and class, one GROUP BY), the first page of "needs help" and of the unanswered,
and the CSV export written whole.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import broadcasts, sealing  # noqa: E402
from core.broadcasts.answer_sheet import answer_sheet  # noqa: E402
from core.broadcasts.tally import Show, pupils, tally  # noqa: E402
from core.config import AccountSettings  # noqa: E402
from core.db import close_database, insert_rows, open_database, refresh_statistics, upgrade_schema  # noqa: E402
from core.identifiers import new_token  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    Broadcast,
    BroadcastAnswer,
    BroadcastCategory,
    BroadcastStatus,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    Guardian,
    NoticeKind,
    Pupil,
)
from core.passwords import Passwords  # noqa: E402
from core.roster import import_roster  # noqa: E402
from mimamori.demo_city import demo_roster  # noqa: E402


async def _seed(schools: int, pupil_count: int, answered: float, url: str) -> Broadcast:
    await upgrade_schema(url)
    await open_database(url)
    names = [f"第{i}小学校" for i in range(1, schools + 1)]
    await import_roster(
        demo_roster(names, pupil_count),
        passwords=Passwords(AccountSettings(), sealing.installed()),
        max_addresses=2,
        actor="bench",
    )
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さまの様子をお知らせください。",
        question=broadcasts.BUILTIN_TEMPLATES[0].question,
    )
    now = datetime.now(UTC)
    await Broadcast.filter(id=draft.id).update(status=BroadcastStatus.FANNED_OUT, confirmed_at=now, fanned_out_at=now)
    rng = random.Random(7)
    deliveries: list[dict[str, Any]] = []
    for address_id, guardian_id, channel in await ContactAddress.all().values_list("id", "guardian_id", "channel"):
        failed = rng.random() < 0.02
        deliveries.append(
            {
                "idempotency_key": f"broadcast:{draft.id}:a{address_id}",
                "kind": NoticeKind.BROADCAST,
                "channel": channel,
                "address_id": address_id,
                "guardian_id": guardian_id,
                "broadcast_id": draft.id,
                "status": DeliveryStatus.FAILED if failed else DeliveryStatus.SENT,
                "next_attempt_at": now,
                "sent_at": None if failed else now,
                "ack_token": new_token(),
            }
        )
    for start in range(0, len(deliveries), 10_000):
        await insert_rows(Delivery, deliveries[start : start + 10_000])
    first_guardian = dict(await Pupil.filter(guardians__id__isnull=False).values_list("id", "guardians__id"))
    answers = [
        {
            "broadcast_id": draft.id,
            "pupil_id": pupil_id,
            "guardian_id": guardian_id,
            "choice": 0 if rng.random() < 0.9 else rng.randint(1, 3),
            "channel": "email",
            "answered_at": now,
        }
        for pupil_id, guardian_id in first_guardian.items()
        if rng.random() < answered
    ]
    for start in range(0, len(answers), 10_000):
        await insert_rows(BroadcastAnswer, answers[start : start + 10_000])
    await refresh_statistics(Delivery, BroadcastAnswer, Pupil, Guardian, ContactAddress)
    return await Broadcast.get(id=draft.id)


async def _timed(work: Any, runs: int = 5) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--pupils", type=int, default=120_000)
    parser.add_argument("--answered", type=float, default=0.83, help="share of the pupils answered for")
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    sealing.install(sealing.Sealer(Keyring.generate(work / "keyring.json")))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    began = time.perf_counter()
    broadcast = await _seed(args.schools, args.pupils, args.answered, url)
    try:
        seeded = time.perf_counter() - began
        counted, shown = await _timed(lambda: tally(broadcast))
        helped, _ = await _timed(lambda: pupils(broadcast, Show.NEEDS_HELP, viewer=None, limit=20))
        waiting, _ = await _timed(lambda: pupils(broadcast, Show.UNANSWERED, viewer=None))

        async def whole_sheet() -> int:
            return sum([len(piece) async for piece in answer_sheet(broadcast, school_ids=None)])

        sheet, size = await _timed(whole_sheet, runs=1)
        print(f"database            {url.split(':')[0]}  (seeded in {seeded:.0f} s)")
        print(
            f"pupils / answered   {shown.total.pupils} / {sum(shown.total.answers)}"
            f" ({shown.total.not_reachable} not reachable, {len(shown.groups)} rows)"
        )
        print(f"tally               median {counted * 1e3:.0f} ms")
        print(f"needs help, 20      median {helped * 1e3:.0f} ms")
        print(f"unanswered, 100     median {waiting * 1e3:.0f} ms")
        print(f"CSV, whole          {sheet:.1f} s ({size / 1e6:.1f} MB)")
    finally:
        await close_database()


if __name__ == "__main__":
    asyncio.run(main())
