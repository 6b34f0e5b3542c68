"""Work per passage, independent of the machine's load: ``python bench/ingest_work.py``.

Posts ``--passages`` passages with 50 KB stills in-process (httpx's ASGI transport, no sockets)
and prints, per passage, the SQL statements sent and the database round trips (on SQLite, calls
into aiosqlite's thread; on PostgreSQL, asyncpg calls), and the Python function calls made;
``--profile`` prints cProfile's top entries too. Timings under load mislead; these counts do not.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.ingest import _seed, _still  # noqa: E402
from core import sealing  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.wire import PASSAGES_PATH  # noqa: E402
from portal.app import create_app  # noqa: E402
from tests.sql_counter import counting_statements  # noqa: E402


async def _post_all(app, key: str, tags: list[str], still: bytes) -> None:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://portal", headers=headers) as client:
        for tag in tags:
            event = json.dumps({"event_id": str(uuid.uuid4()), "tag": tag, "seen_at": datetime.now(UTC).isoformat()})
            response = await client.post(
                PASSAGES_PATH,
                files={
                    "event": (None, event, "application/json"),
                    "photo": ("still.jpg", still, "image/jpeg"),
                },
            )
            if response.status_code != 201:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text}")


def _bare_app():  # noqa: ANN202 - the ceiling: parse the same upload, answer 201, no database
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def accept(request):  # noqa: ANN001
        form = await request.form(max_part_size=64 * 1024)
        await form["photo"].read()
        json.loads(form["event"])
        return JSONResponse({"passage_id": 1, "duplicate": False}, status_code=201)

    return Starlette(routes=[Route(PASSAGES_PATH, accept, methods=["POST"])])


def _calls(profile: cProfile.Profile) -> int:
    return sum(calls for calls, *_ in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top entries")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative, calls)")
    parser.add_argument("--top", default=30, type=int)
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one passage")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-work-"))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    settings = load_settings(None, data_dir=work, database_url=url, keyring=str(work / "keyring.json"))
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    try:
        key, tags = await _seed(args.passages + 1)
        app = create_app(settings)
        still = _still()
        await _post_all(app, key, tags[:1], still)  # warm up: imports, caches, prepared statements
        with counting_statements() as counted:
            await _post_all(app, key, tags[1:2], still)
        if args.show_sql:
            for statement in counted.queries:
                print(statement)
        profile = cProfile.Profile()
        with counting_statements() as counted:
            profile.enable()
            await _post_all(app, key, tags[2:], still)
            profile.disable()
        bare = cProfile.Profile()
        bare.enable()
        await _post_all(_bare_app(), key, tags[2:], still)
        bare.disable()
    finally:
        await close_database()
    n = args.passages - 1
    calls, bare_calls = _calls(profile), _calls(bare)
    kinds = Counter(s.split(None, 1)[0].upper() for s in counted.queries)
    print(f"database                  {url.split(':')[0]}")
    print(
        f"SQL statements / passage  {len(counted.queries) / n:.1f}  "
        f"({', '.join(f'{k} {v / n:.1f}' for k, v in kinds.most_common())})"
    )
    print(f"round trips / passage     {counted.round_trips / n:.1f}")
    print(
        f"Python calls / passage    {calls / n:,.0f} (bare endpoint: {bare_calls / n:,.0f}; "
        f"ratio {bare_calls / calls:.2f})"
    )
    if args.profile:
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    asyncio.run(main())
