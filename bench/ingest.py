"""Passages into the centre, end to end: ``python bench/ingest.py --passages 2000``.

Seeds a school whose pupils each have a guardian with one mail address, starts ``mimamori
serve`` (portal and delivery worker in one process, as a town runs it) and an aiosmtpd sink in
processes of their own, then:

1. posts ``--passages`` passages with 50 KB stills from ``--clients`` concurrent clients as fast
   as they are accepted: passages per second, against the ceiling -- the same uploads to a bare
   Starlette endpoint that parses the multipart body and answers 201, no database;
2. posts passages at ``--rate`` per second for ``--seconds``: detection (the ``seen_at`` stamped
   just before posting) to the notice's acceptance at the SMTP sink, p50 and p99;
3. runs ``mimamori gate simulate`` (a real gate worker with a 640x480 camera video) and reports
   its peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
from tortoise import connections  # noqa: E402

from core import sealing  # noqa: E402
from core.accounts import add_gate, add_site  # noqa: E402
from core.addresses import address_index  # noqa: E402
from core.channels import spec  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    AddressStatus,
    Channel,
    ContactAddress,
    Guardian,
    Pupil,
    SiteKind,
    Tag,
)
from core.wire import PASSAGES_PATH  # noqa: E402
from tests.net import free_port, wait_for_http  # noqa: E402


def _still(size: int = 50_000) -> bytes:
    """A real JPEG of about ``size`` bytes (noise compresses badly, so it is easy to size)."""
    side = 64
    while True:
        image = np.random.default_rng(side).integers(0, 255, (side, side, 3), dtype=np.uint8)
        data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
        if len(data) >= size:
            return data
        side += 8


def _sink(port: int, accepted, ready) -> None:  # its own process: recipient -> acceptance time
    from aiosmtpd.controller import Controller

    class Recording:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            now = time.time()
            for rcpt in envelope.rcpt_tos:
                accepted.put((rcpt, now))
            return "250 OK"

    Controller(Recording(), hostname="127.0.0.1", port=port).start()
    ready.set()
    while True:
        time.sleep(3600)


def _ceiling_server(port: int) -> None:  # its own process
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def accept(request):  # noqa: ANN001
        form = await request.form(max_part_size=64 * 1024)
        await form["photo"].read()
        json.loads(form["event"])
        return JSONResponse({"passage_id": 1, "duplicate": False}, status_code=201)

    app = Starlette(
        routes=[Route(PASSAGES_PATH, accept, methods=["POST"]), Route("/healthz", lambda r: JSONResponse("ok"))]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


async def _seed(pupils: int) -> tuple[str, list[str]]:
    sealer = sealing.installed()
    site = await add_site("ベンチ小学校", SiteKind.SCHOOL, actor="bench")
    _, key = await add_gate(site.name, "正門", actor="bench")
    tags = [f"{n:010X}" for n in range(1, pupils + 1)]
    for start in range(0, pupils, 500):
        chunk = tags[start : start + 500]
        await Pupil.bulk_create(
            [
                Pupil(
                    school_id=site.id,
                    grade=1,
                    class_name="1",
                    name=f"児童 {t}",
                    name_index=sealer.blind_index("name", t),
                    roster_key=f"bench-{t}",
                )
                for t in chunk
            ]
        )
        await Guardian.bulk_create(
            [
                Guardian(
                    login_id=f"B{t}",
                    name=f"保護者 {t}",
                    name_index=sealer.blind_index("name", t),
                    password_hash="x",
                    must_change_password=False,
                )
                for t in chunk
            ]
        )
    pupil_ids = await Pupil.all().order_by("id").values_list("id", flat=True)
    guardian_ids = await Guardian.all().order_by("id").values_list("id", flat=True)
    await Tag.bulk_create(
        [
            Tag(number=t, number_index=sealer.blind_index("tag", t), pupil_id=p)
            for t, p in zip(tags, pupil_ids, strict=True)
        ],
        batch_size=1000,
    )
    connection = connections.get("default")
    pairs = list(zip(guardian_ids, pupil_ids, strict=True))
    for start in range(0, len(pairs), 500):
        values = ", ".join(f"({g}, {p})" for g, p in pairs[start : start + 500])
        await connection.execute_script(f"INSERT INTO guardian_pupil (guardian_id, pupil_id) VALUES {values}")
    now = datetime.now(UTC)
    await ContactAddress.bulk_create(
        [
            ContactAddress(
                guardian_id=g,
                channel=Channel.EMAIL,
                value=f"{t}@example.jp",
                value_index=address_index(Channel.EMAIL, f"{t}@example.jp"),
                lane=spec(Channel.EMAIL).lane(f"{t}@example.jp"),
                slot=1,
                status=AddressStatus.ACTIVE,
                verified_at=now,
            )
            for g, t in zip(guardian_ids, tags, strict=True)
        ],
        batch_size=1000,
    )
    return key, tags


async def _post(client: httpx.AsyncClient, tag: str, still: bytes) -> float:
    seen = datetime.now(UTC)
    event = json.dumps({"event_id": str(uuid.uuid4()), "tag": tag, "seen_at": seen.isoformat()})
    response = await client.post(
        PASSAGES_PATH,
        files={
            "event": (None, event, "application/json"),
            "photo": ("still.jpg", still, "image/jpeg"),
        },
    )
    if response.status_code not in (200, 201):
        raise RuntimeError(f"HTTP {response.status_code}: {response.text}")
    return seen.timestamp()


async def _flood(url: str, key: str, tags: list[str], still: bytes, clients: int) -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for tag in tags:
        queue.put_nowait(tag)

    async def client_loop() -> None:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            while not queue.empty():
                await _post(client, queue.get_nowait(), still)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return len(tags) / (time.perf_counter() - started)


async def _paced(url: str, key: str, tags: list[str], still: bytes, rate: float) -> dict[str, float]:
    seen: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:

        async def one(tag: str) -> None:
            seen[f"{tag}@example.jp".lower()] = await _post(client, tag, still)

        tasks = []
        started = time.perf_counter()
        for n, tag in enumerate(tags):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(tag)))
        await asyncio.gather(*tasks)
    return seen


def _latencies(seen: dict[str, float], accepted, timeout: float = 120) -> list[float]:
    found: dict[str, float] = {}
    deadline = time.time() + timeout
    while len(found) < len(seen) and time.time() < deadline:
        try:
            rcpt, at = accepted.get(timeout=1)
        except Exception:  # queue.Empty
            continue
        if rcpt.lower() in seen:
            found[rcpt.lower()] = at - seen[rcpt.lower()]
    return sorted(found.values())


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _gate_memory(url: str, key: str, seconds: float) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _GATE_SCRIPT, url, key, str(seconds)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# A real gate worker with a 640x480 camera video, passing tags for ``seconds``.
_GATE_SCRIPT = """
import asyncio, sys, tempfile
from pathlib import Path
import gates.simulator as simulator
url, key, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
make = simulator.make_video
simulator.make_video = lambda path, **kw: make(path, width=640, height=480, **kw)
async def main():
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    with tempfile.TemporaryDirectory() as d:
        await simulator.simulate(simulator.Simulation(url, key, ("0000000001", "0000000002"), every=1.0),
                                 Path(d), stop, on_pass=lambda tag, at: None)
asyncio.run(main())
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--gate-seconds", type=float, default=20)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    smtp_port, portal_port, ceiling_port = free_port(), free_port(), free_port()
    settings = load_settings(None, data_dir=work, database_url=url, keyring=str(work / "keyring.json"))
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    paced_count = int(args.rate * args.seconds)
    try:
        key, tags = await _seed(args.passages + paced_count)
    finally:
        await close_database()

    accepted, ready = multiprocessing.Queue(), multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(smtp_port, accepted, ready), daemon=True)
    sink.start()
    ready.wait(30)
    ceiling_server = multiprocessing.Process(target=_ceiling_server, args=(ceiling_port,), daemon=True)
    ceiling_server.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env.update(
        PYTHONPATH=str(REPO),
        MIMAMORI_DATA_DIR=str(work),
        MIMAMORI_DATABASE_URL=url,
        MIMAMORI_KEYRING=settings.keyring,
        MIMAMORI_PORTAL__PORT=str(portal_port),
        MIMAMORI_SMTP__PORT=str(smtp_port),
        MIMAMORI_SMTP__FROM_ADDRESS="mimamori@city.example.jp",
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "serve"],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    centre = f"http://127.0.0.1:{portal_port}"
    try:
        wait_for_http(f"{centre}/healthz")
        wait_for_http(f"http://127.0.0.1:{ceiling_port}/healthz")
        still = _still()
        cpu_before = _cpu_seconds(serve.pid)
        ours = await _flood(centre, key, tags[: args.passages], still, args.clients)
        await asyncio.sleep(5)  # the flood's notices drain
        serve_cpu = (_cpu_seconds(serve.pid) - cpu_before) / args.passages
        ceiling = await _flood(f"http://127.0.0.1:{ceiling_port}", key, tags[: args.passages], still, args.clients)
        while not accepted.empty():
            accepted.get()
        seen = await _paced(centre, key, tags[args.passages :], still, args.rate)
        latencies = _latencies(seen, accepted)
        gate_peak = _gate_memory(centre, key, args.gate_seconds)
    finally:
        serve.terminate()
        serve.wait(30)
        ceiling_server.terminate()
        sink.terminate()

    print(f"database                  {url.split(':')[0]}")
    print(f"stills                    {len(still):,} bytes, {args.clients} concurrent clients")
    print(f"accepted                  {ours:,.0f} passages/s (goal: 200 on SQLite)")
    print(f"ceiling (no database)     {ceiling:,.0f} uploads/s")
    print(f"ours / ceiling            {ours / ceiling:.2f}")
    print(f"serve CPU per passage     {serve_cpu * 1000:.1f} ms (ingest and its mail; load-independent)")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"detection to SMTP         p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms at {args.rate:.0f}/s"
            f" ({len(latencies)}/{len(seen)} arrived; goal: p99 under 1 s)"
        )
    else:
        print("detection to SMTP         no notice arrived")
    print(f"gate worker peak memory   {gate_peak:.0f} MB (640x480 camera; goal: under 150 MB)")


if __name__ == "__main__":
    asyncio.run(main())
