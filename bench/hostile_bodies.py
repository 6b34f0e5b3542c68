"""What a hostile body costs the portal in memory: ``python bench/hostile_bodies.py --megabytes 200``.

Starts ``mimamori serve`` (SQLite, LINE's webhook on) and, as the baseline in the same run, a bare
Starlette app in a process of its own that reads each body whole, as the portal did before
``portal.body_limit``. Each gets the same bodies, streamed chunked (a declared Content-Length is
refused before it is sent, so chunked is the costly case): a LINE webhook with a bogus signature,
a login form without a session, a heartbeat with a real gate's key. Printed: what each body cost
each server at its peak (VmHWM, reset before each body through ``/proc/<pid>/clear_refs``, minus
VmRSS before it), and ours against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from core.wire import HEARTBEAT_PATH  # noqa: E402
from tests.net import free_port, wait_for_http  # noqa: E402

CHUNK = 1024 * 1024
BODIES = (
    ("LINE webhook, bogus signature", "/hooks/line", {"X-Line-Signature": "bogus"}),
    ("login form, no session", "/login", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("gate heartbeat, the gate's key", HEARTBEAT_PATH, {}),
)


def _baseline_server(port: int) -> None:  # its own process: reads every body whole, then answers
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def read_all(request: Request) -> Response:
        body = await request.body()
        return Response(f"{len(body)}", status_code=401)

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    routes = [Route(path, read_all, methods=["POST"]) for _, path, _ in BODIES] + [Route("/healthz", healthz)]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")


def _memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


async def _chunks(megabytes: int) -> AsyncIterator[bytes]:
    chunk = b"a=" + b"x" * (CHUNK - 2)
    for _ in range(megabytes):
        yield chunk


async def _send(base: str, path: str, headers: dict[str, str], megabytes: int) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        try:
            response = await client.post(path, content=_chunks(megabytes), headers=headers)
        except httpx.HTTPError as exc:  # the server answered and closed while we were still sending
            return type(exc).__name__
        return str(response.status_code)


async def _run(base: str, pid: int, megabytes: int, gate_key: str) -> list[tuple[str, str, float]]:
    results = []
    for label, path, headers in BODIES:
        if path == HEARTBEAT_PATH:
            headers = {"Authorization": f"Bearer {gate_key}", "Content-Type": "application/json"}
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from now
        before = _memory_mb(pid)["VmRSS"]
        answer = await _send(base, path, headers, megabytes)
        results.append((label, answer, _memory_mb(pid)["VmHWM"] - before))
    return results


def _gate_key(env: dict[str, str], work: Path) -> str:
    def admin(*words: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "mimamori", *words], env=env, cwd=work, check=True, capture_output=True, text=True
        ).stdout

    admin("db", "upgrade")
    admin("admin", "add-site", "ベンチ小学校")
    return admin("admin", "add-gate", "ベンチ小学校", "正門").strip().splitlines()[-1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    portal_port, baseline_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env.update(
        PYTHONPATH=str(REPO),
        MIMAMORI_DATA_DIR=str(work),
        MIMAMORI_DATABASE_URL=f"sqlite://{work / 'bench.db'}",
        MIMAMORI_KEYRING=str(work / "keyring.json"),
        MIMAMORI_PORTAL__PORT=str(portal_port),
        MIMAMORI_SMTP__PORT=str(free_port()),
        MIMAMORI_SMTP__FROM_ADDRESS="mimamori@city.example.jp",
        MIMAMORI_LINE__ACCESS_TOKEN="bench-token",
        MIMAMORI_LINE__CHANNEL_SECRET="bench-secret",
        MIMAMORI_LINE__API_BASE="http://127.0.0.1:9",  # never called: every signature is bogus
    )
    gate_key = _gate_key(env, work)
    serve = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "serve"],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    baseline = multiprocessing.Process(target=_baseline_server, args=(baseline_port,), daemon=True)
    baseline.start()
    try:
        ours_url, baseline_url = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{baseline_port}"
        wait_for_http(f"{ours_url}/healthz")
        wait_for_http(f"{baseline_url}/healthz")
        assert baseline.pid is not None
        ours = await _run(ours_url, serve.pid, args.megabytes, gate_key)
        theirs = await _run(baseline_url, baseline.pid, args.megabytes, gate_key)
    finally:
        serve.terminate()
        serve.wait(30)
        baseline.terminate()

    print(
        f"body                      {args.megabytes} MB, chunked, {CHUNK // 1024} KiB chunks; load {os.getloadavg()[0]:.1f}"
    )
    for (label, answer, grown), (_, base_answer, base_grown) in zip(ours, theirs, strict=True):
        print(
            f"{label:32} serve +{grown:6.1f} MB ({answer}); whole-body baseline +{base_grown:6.1f} MB"
            f" ({base_answer}); ratio {grown / base_grown:.3f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
