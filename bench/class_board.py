"""The class board of a large school: ``python bench/class_board.py [--pupils 1135] [--database-url postgres://…]``.

Seeds one school of 1,135 pupils, about 1,000 with a tag (most arrived, some reported absent, the
rest unseen), then times the staff page's work, ``core.attendance.board`` and the template's render (goal: under 0.5 s on
SQLite), and prints its ratio to a bare query reading the same rows in one statement each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.attendance_city import DAY, city_morning  # noqa: E402
from bench.attendance_sweep import bare_query  # noqa: E402
from core import attendance  # noqa: E402
from core.db import close_database  # noqa: E402
from core.models import Language, Site  # noqa: E402
from portal.templating import templates  # noqa: E402


async def _render(site: Site) -> tuple[float, int]:
    began = time.perf_counter()
    board = await attendance.board(site, DAY)
    html = templates.get_template("staff/board.html").render(
        request=SimpleNamespace(url=SimpleNamespace(path="/staff/board")),
        language=Language.JA,
        zone="Asia/Tokyo",
        csrf="x" * 32,
        session=None,
        account=None,
        schools=[site],
        board=board,
        show="",
        today=True,
        refresh=None,
        refresh_choices=(30, 60, 300),
        states=attendance.State,
        state_labels=attendance.STATE_LABELS,
        marked=None,
    )
    return time.perf_counter() - began, html.count('<tr id="p')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1_135, help="on the roster; 9 in 10 have a tag")
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    morning = await city_morning(1, args.pupils, args.database_url, absent_share=0.15)
    try:
        site = await Site.first()
        assert site is not None
        runs = [await _render(site) for _ in range(7)]
        bare = min([await bare_query() for _ in range(7)])
        times = sorted(elapsed for elapsed, _ in runs)
        print(f"database         {morning.url.split(':')[0]}")
        print(
            f"pupils on board  {runs[0][1]} ({morning.arrived} arrived, {morning.reported} absent, {morning.unseen} unseen)"
        )
        print(
            f"board + render   median {statistics.median(times) * 1e3:.0f} ms, best {times[0] * 1e3:.0f} ms (goal: under 500 ms)"
        )
        print(f"bare query       {bare * 1e3:.1f} ms (the same rows, one query each)")
        print(f"board / bare     {statistics.median(times) / bare:.0f}x")
    finally:
        await close_database()


if __name__ == "__main__":
    asyncio.run(main())
