"""Gate fixtures: the real portal served by uvicorn on a free port (startable and stoppable, to
play an outage), a simulated reader port and camera video, and a gate worker to run against them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import uvicorn

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
    """The central service's portal, served for real; ``stop()`` and ``start()`` play an outage."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: PortalServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning")
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
