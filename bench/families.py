"""A city's families for the question benchmarks: guardians with mail addresses (as
``broadcast_email`` seeds them), their children at ``schools`` schools, one in five families with
two children (100,000 guardians, 120,000 pupils), and the 安否確認 question they are asked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from broadcast_email import _seed  # noqa: E402
from tortoise import connections  # noqa: E402

from core import broadcasts  # noqa: E402
from core.db import connection  # noqa: E402
from core.models import Broadcast, BroadcastCategory, Guardian, Pupil, Site, SiteKind  # noqa: E402
from core.questions import BUILTIN_TEMPLATES  # noqa: E402

SAFETY = next(t.question for t in BUILTIN_TEMPLATES if t.key == "safety")


async def seed_families(guardians: int, *, schools: int = 30) -> tuple[int, int]:
    """Guardians with addresses and their children; returns (addresses, pupils)."""
    addresses = await _seed(guardians)
    sites = [await Site.create(name=f"ベンチ第{n + 1}小学校", kind=SiteKind.SCHOOL) for n in range(schools)]
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    ids: list[int] = list(await Guardian.all().order_by("id").values_list("id", flat=True))  # type: ignore[arg-type]
    children = [(g, c) for n, g in enumerate(ids) for c in range(2 if n % 5 == 0 else 1)]
    for start in range(0, len(children), 5000):
        await Pupil.bulk_create(
            [
                Pupil(
                    school_id=sites[n % schools].id,
                    grade=1 + (n // schools) % 6,
                    class_name=str(1 + (n // (schools * 6)) % 4),
                    name=f"児童 {n}",
                    name_index=f"{n:064x}",
                    roster_key=f"bench-{n}",
                )
                for n in range(start, min(start + 5000, len(children)))
            ]
        )
    pupil_ids = await Pupil.all().order_by("id").values_list("id", flat=True)
    pairs = [(g, p) for (g, _), p in zip(children, pupil_ids, strict=True)]
    client = connections.get("default")
    for start in range(0, len(pairs), 1000):
        values = ", ".join(f"({g}, {p})" for g, p in pairs[start : start + 1000])
        await client.execute_script(f"INSERT INTO guardian_pupil (guardian_id, pupil_id) VALUES {values}")
    await connection().execute_script("ANALYZE")
    return addresses, len(pairs)


async def safety_check(*, drill: bool = False) -> Broadcast:
    """A city-wide 安否確認 after an earthquake, drafted (the benchmarks' question)."""
    return await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="地震発生：お子さまの安否確認",
        body="市内で震度5強の地震がありました。\nお子さまの様子を下のボタンで答えてください。",
        question=SAFETY,
        drill=drill,
    )


def choice_of(n: int) -> int:
    """The ``n``-th family's answer: 17 in 20 safe, then one each injured, to be collected, not
    reachable (the last two need help)."""
    return max(0, n % 20 - 16)


def load() -> str:
    """The machine's load averages, as the figures are read with them."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min, {os.cpu_count()} cores)"
