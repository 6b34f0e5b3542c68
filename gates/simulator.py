"""A gate without hardware: reader frames written into a pseudo-terminal, and a generated video
file played as the camera. ``mimamori gate simulate`` and the tests both drive real gate workers
with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import termios
import tty
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from gates.protocols import em4100_ascii, line


class ReaderPort:
    """A pseudo-terminal standing in for the reader's serial port.

    The worker opens ``path``, a symlink (as udev makes them) to the current pty, so the reader
    can be unplugged (``unplug``) and plugged back in (``plug``) under the same name.
    """

    def __init__(self, directory: Path, name: str = "ttyGATE") -> None:
        self.path = directory / name
        self._master: int | None = None
        self._slave: int | None = None
        self.plug()

    def plug(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave, termios.TCSANOW)
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(os.ttyname(self._slave))

    def unplug(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self.path.unlink(missing_ok=True)

    def write(self, data: bytes) -> None:
        assert self._master is not None, "the reader is unplugged"
        os.write(self._master, data)

    def close(self) -> None:
        self.unplug()


def reader_frame(protocol: str, tag: str, prefix: str = "") -> bytes:
    if protocol == em4100_ascii.NAME:
        return em4100_ascii.frame(tag)
    if protocol == line.NAME:
        return line.frame(tag, prefix)
    raise ValueError(f"the simulator cannot speak {protocol}")


def scene(width: int = 320, height: int = 240) -> np.ndarray:
    """A gate with detail in it: fine stripes and a checkerboard, so blur shows."""
    image = np.full((height, width, 3), 200, np.uint8)
    image[::4, :, :] = 40
    for y in range(0, height, 16):
        for x in range((y // 16 % 2) * 16, width, 32):
            image[y : y + 16, x : x + 16] = (30, 90, 160)
    cv2.putText(image, "MIMAMORI GATE", (20, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    return image


def make_video(
    path: Path,
    *,
    seconds: float = 4.0,
    fps: int = 25,
    sharp_frames: set[int] | None = None,
    width: int = 320,
    height: int = 240,
) -> Path:
    """An MJPEG file of a blurred scene (a child moving, a camera out of focus) in which only
    ``sharp_frames`` are in focus; by default the frame in the middle."""
    count = int(seconds * fps)
    sharp = {count // 2} if sharp_frames is None else sharp_frames
    clear = scene(width, height)
    blurred = cv2.GaussianBlur(clear, (21, 21), 8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (clear.shape[1], clear.shape[0]))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write MJPEG video here")
    try:
        for index in range(count):
            writer.write(clear if index in sharp else blurred)
    finally:
        writer.release()
    return path


@dataclass(frozen=True)
class Simulation:
    server_url: str
    gate_key: str
    tags: tuple[str, ...]
    every: float = 3.0  # seconds between passes
    count: int = 0  # passes to make; 0: until stopped
    protocol: str = "em4100-ascii"
    camera: bool = True
    quiet_seconds: float = 1.0
    keep_running: bool = False  # after the last pass, the gate stays up (heartbeats) until stopped


async def simulate(
    simulation: Simulation,
    directory: Path,
    stop: asyncio.Event,
    on_pass: Callable[[str, datetime], None] = lambda tag, at: None,
) -> int:
    """Run a real gate worker on a pty and a generated video, passing ``tags`` in turn (each
    read a few times, as a lingering child's tag is); returns the passages left unsent."""
    from pydantic import SecretStr

    from gates.config import CameraConfig, GateConfig, SerialConfig, ServerConfig, SpoolConfig
    from gates.worker import GateWorker

    directory.mkdir(parents=True, exist_ok=True)
    port = ReaderPort(directory)
    config = GateConfig(
        reader_name="simulator",
        serial=SerialConfig(port=str(port.path), protocol=simulation.protocol, quiet_seconds=simulation.quiet_seconds),
        camera=CameraConfig(source=str(make_video(directory / "camera.avi")) if simulation.camera else "none"),
        server=ServerConfig(url=simulation.server_url, gate_key=SecretStr(simulation.gate_key), retry_max_seconds=5),
        spool=SpoolConfig(path=directory / "gate-spool.db"),
    )
    worker = GateWorker(config)
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(1.0)  # the reader opens its port, the camera fills its ring
        for n in itertools.count():
            if stop.is_set() or (simulation.count and n >= simulation.count):
                break
            tag = simulation.tags[n % len(simulation.tags)]
            for _ in range(3):
                port.write(reader_frame(simulation.protocol, tag))
                await asyncio.sleep(0.05)
            on_pass(tag, datetime.now().astimezone())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(simulation.every, simulation.quiet_seconds + 0.2))
        if simulation.keep_running:
            await stop.wait()
        for _ in range(200):  # let the uplink finish (at most 20 s) unless asked to stop
            if stop.is_set() or worker.spool.depth() == 0:
                break
            await asyncio.sleep(0.1)
        return await asyncio.to_thread(worker.spool.depth)
    finally:
        stop.set()
        await running
        port.close()
