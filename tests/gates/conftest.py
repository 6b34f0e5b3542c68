"""Gate fixtures: the real portal served by uvicorn on a free port (startable and stoppable, to
play an outage), a simulated reader port and camera video, and a gate worker to run against them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings
from gates.config import GateConfig, load_gate_config
from gates.simulator import ReaderPort, make_video
from gates.worker import GateWorker
from mimamori.lifecycle import PortalServer
from portal.app import create_app
from tests.net import free_port


async def eventually(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> None:
    """For tests of the threads (reader, camera) without an event loop."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Centre:
    """The central service's portal, served for real; ``stop()`` and ``start()`` play an outage, and
    ``fails`` plays a centre with a bug one event triggers (event id → the status it answers)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fails: dict[str, int] = {}
        self._server: PortalServer | None = None
        self._task: asyncio.Task[None] | None = None

    def _with_faults(self, app: ASGIApp) -> ASGIApp:
        async def faulty(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not self.fails:
                return await app(scope, receive, send)
            messages, body = [], b""
            while True:
                message = await receive()
                messages.append(message)
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            status = next((code for event, code in self.fails.items() if event.encode() in body), None)
            if status is not None:
                return await PlainTextResponse("a bug this event triggers", status_code=status)(scope, receive, send)
            replay = iter(messages)
            return await app(scope, lambda: _next_or_disconnect(replay), send)

        return faulty

    async def start(self) -> None:
        app = self._with_faults(create_app(self.settings))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = PortalServer(config)
        self._task = asyncio.create_task(self._server.serve())
        await eventually(lambda: self._server.started)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            await self._task
            self._server = None


@pytest.fixture
async def centre(settings):
    centre = Centre(settings)
    yield centre
    await centre.stop()


@pytest.fixture
def reader_port(tmp_path: Path):
    port = ReaderPort(tmp_path)
    yield port
    port.close()


async def _next_or_disconnect(messages: Iterator[Message]) -> Message:
    return next(messages, {"type": "http.disconnect"})


class RunningGate:
    def __init__(self, config: GateConfig) -> None:
        self.config = config
        self.worker: GateWorker | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> GateWorker:
        self._stop = asyncio.Event()
        self.worker = GateWorker(self.config)
        self._task = asyncio.create_task(self.worker.run(self._stop))
        await eventually(lambda: self.worker.reader is not None and self.worker.reader.status.alive)
        return self.worker

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            await self._task
            self._task = None


@pytest.fixture
def gate_config(tmp_path: Path, reader_port: ReaderPort, centre: Centre) -> Callable[[str], GateConfig]:
    video = make_video(tmp_path / "camera.avi", seconds=2.0)

    def make(key: str, *, camera: bool = True) -> GateConfig:
        path = tmp_path / "gate.toml"
        path.write_text(
            f'reader_name = "正門"\n'
            f'[serial]\nport = "{reader_port.path}"\nquiet_seconds = 30\n'
            f'[camera]\nsource = "{video if camera else "none"}"\n'
            f'[server]\nurl = "{centre.url}"\ngate_key = "{key}"\nretry_max_seconds = 0.5\ntimeout = 5\n'
            f'[spool]\npath = "spool/gate-spool.db"\n',
            encoding="utf-8",
        )
        return load_gate_config(path)

    return make


@pytest.fixture
async def running_gates():
    gates: list[RunningGate] = []

    def make(config: GateConfig) -> RunningGate:
        gates.append(RunningGate(config))
        return gates[-1]

    yield make
    for gate in gates:
        await gate.stop()
