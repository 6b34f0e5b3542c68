"""Roster import speed: ``python bench/roster_import.py --pupils 10000 [--notices]``.

Prints our import time for a city-sized roster (goal: 10,000 pupils in under a minute on this
2-core machine), and our rate against a baseline run in the same process: a naive import that
writes one object per ORM round trip, as a first version would (run on a slice and reported as
rows per second).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import sealing  # noqa: E402
from core.config import AccountSettings  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import Guardian, Pupil, Site, SiteKind, Tag  # noqa: E402
from core.passwords import Passwords  # noqa: E402
from core.registration_notice import write_registration_notices  # noqa: E402
from core.roster import guardian_key, import_roster, parse_roster  # noqa: E402
from mimamori.demo_city import demo_roster  # noqa: E402


async def _fresh(url: str) -> None:
    await upgrade_schema(url)
    await open_database(url)


async def _ours(url: str, data: bytes, passwords: Passwords, notices: Path | None) -> float:
    await _fresh(url)
    start = time.perf_counter()
    result = await import_roster(data, passwords=passwords, max_addresses=2, actor="bench")
    if notices:
        write_registration_notices(result.new_guardians, notices, portal_url="https://example.city")
    elapsed = time.perf_counter() - start
    assert result.written and not result.problems
    await close_database()
    return elapsed


async def _naive(url: str, data: bytes, passwords: Passwords, rows: int) -> float:
    await _fresh(url)
    sealer = sealing.installed()
    parsed = parse_roster(data, max_addresses=2).rows[:rows]
    start = time.perf_counter()
    for n, row in enumerate(parsed):
        site, _ = await Site.get_or_create(name=row.school, defaults={"kind": SiteKind.SCHOOL})
        pupil = await Pupil.create(
            school=site,
            grade=row.grade,
            class_name=row.class_name,
            name=row.pupil_name,
            name_index=sealer.blind_index("name", row.pupil_name),
            roster_key=f"k{n}",
        )
        if row.tag:
            await Tag.create(number=row.tag, number_index=sealer.blind_index("tag", row.tag), pupil=pupil)
        guardian = await Guardian.get_or_none(roster_ref_index=guardian_key(row.guardian_ref))
        if guardian is None:
            _, stored = passwords.issue_one_time()
            guardian = await Guardian.create(
                login_id=f"L{n}",
                roster_ref=row.guardian_ref,
                roster_ref_index=guardian_key(row.guardian_ref),
                name=row.guardian_name,
                name_index=sealer.blind_index("name", row.guardian_name),
                password_hash=stored,
            )
        await guardian.pupils.add(pupil)
    elapsed = time.perf_counter() - start
    await close_database()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=10_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    parser.add_argument("--notices", action="store_true", help="also write the printable notices")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    sealer = sealing.Sealer(Keyring.generate(work / "keyring.json"))
    sealing.install(sealer)
    passwords = Passwords(AccountSettings(), sealer)
    data = demo_roster([f"第{i}小学校" for i in range(1, 41)], args.pupils)
    ours_url = args.database_url or f"sqlite://{work / 'ours.db'}"

    ours = await _ours(ours_url, data, passwords, work / "notices" if args.notices else None)
    naive = await _naive(f"sqlite://{work / 'naive.db'}", data, passwords, args.baseline_rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ours_rate, naive_rate = args.pupils / ours, args.baseline_rows / naive
    print(f"database           {ours_url.split(':')[0]}")
    print(f"pupils imported    {args.pupils}{' with notices' if args.notices else ''}")
    print(f"import time        {ours:.1f} s (goal: under 60 s for 10,000)")
    print(f"rows per second    {ours_rate:,.0f}")
    print(f"naive baseline     {naive_rate:,.0f} rows/s (one ORM round trip per object, SQLite)")
    print(f"ours / naive       {ours_rate / naive_rate:.1f}x")
    print(f"peak memory        {peak_mb:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
