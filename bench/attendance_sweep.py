"""The 08:40 sweep for a city: ``python bench/attendance_sweep.py [--pupils 10000] [--database-url postgres://…]``.

Seeds 30 schools (a third of the tagged pupils absent or unseen: half of those reported absent),
then times ``core.not_seen.run_checks`` at 08:41, which writes a check per unseen pupil and queues
every notice (goal: under 10 s for 10,000 pupils, SQLite and PostgreSQL), and prints its wall and
CPU time per pupil and its ratio to a bare query reading the same rows (the tagged pupils, the
day's passages and reports) in one statement each.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.attendance_city import DAY, Morning, city_morning, local  # noqa: E402
from core import not_seen  # noqa: E402
from core.db import close_database, connection, placeholder  # noqa: E402
from core.models import AbsenceReport, AttendanceCheck, CheckAnswerLink, Delivery, NoticeKind, Passage  # noqa: E402

_BARE = (
    "SELECT p.id, p.school_id, p.name, p.grade, p.class_name FROM pupil p JOIN tag t ON t.pupil_id = p.id WHERE t.status = 'active'",
    "SELECT pupil_id, site_id, direction, seen_at FROM passage WHERE seen_at >= {mark1} AND seen_at < {mark2}",
    "SELECT pupil_id, kind, reason, guardian_id FROM absence_report WHERE first_day <= {mark1} AND last_day >= {mark2} AND withdrawn_at IS NULL",
)


async def bare_query() -> float:
    """The same rows read with no logic: one query each."""
    client = connection()
    dialect = client.capabilities.dialect
    marks = {"mark1": placeholder(dialect, 1), "mark2": placeholder(dialect, 2)}
    passages = [_stored(Passage, "seen_at", local(0, 0)), _stored(Passage, "seen_at", local(23, 59))]
    began = time.perf_counter()
    for sql, values in zip(_BARE, ([], passages, [_stored(AbsenceReport, "first_day", DAY)] * 2), strict=True):
        await client.execute_query_dict(sql.format(**marks), values)
    return time.perf_counter() - began


def _stored(model: Any, name: str, value: Any) -> Any:
    return model._meta.fields_map[name].to_db_value(value, model)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=10_000)
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    morning = await city_morning(args.schools, args.pupils, args.database_url, absent_share=1 / 3)
    try:
        await _measure(morning, args.schools)
    finally:
        await close_database()


async def _measure(morning: Morning, schools: int) -> None:
    bare = min([await bare_query() for _ in range(3)])
    wall, cpu = time.perf_counter(), time.process_time()
    found = await not_seen.run_checks(morning.settings, local(8, 41))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tagged = morning.arrived + morning.reported + morning.unseen
    queued = await Delivery.filter(kind=NoticeKind.NOT_SEEN).count()
    assert found == morning.unseen == await AttendanceCheck.all().count()
    print(f"database            {morning.url.split(':')[0]}")
    print(f"pupils with tags    {tagged} at {schools} schools")
    print(f"arrived / reported / unseen  {morning.arrived} / {morning.reported} / {morning.unseen}")
    print(f"checks written      {found}, answer links {await CheckAnswerLink.all().count()}, notices queued {queued}")
    print(f"sweep time          {wall:.2f} s (goal: under 10 s)")
    print(f"CPU per pupil       {cpu / tagged * 1e6:.0f} µs (per unseen pupil {cpu / max(found, 1) * 1e3:.2f} ms)")
    print(f"bare query          {bare * 1e3:.0f} ms (the same rows, one query each)")
    print(f"sweep / bare        {wall / bare:.0f}x")
    again = time.perf_counter()
    assert await not_seen.run_checks(morning.settings, local(8, 42)) == 0
    not_seen.forget()
    assert await not_seen.run_checks(morning.settings, local(8, 43)) == 0
    print(f"again after restart {time.perf_counter() - again:.2f} s, nobody told twice")


if __name__ == "__main__":
    asyncio.run(main())
