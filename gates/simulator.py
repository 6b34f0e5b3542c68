"""A gate without hardware: reader frames written into a pseudo-terminal, and a generated video
file played as the camera. ``mimamori gate simulate`` and the tests both drive real gate workers
with it.
"""

from __future__ import annotations

import os
import termios
import tty
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


def make_video(path: Path, *, seconds: float = 4.0, fps: int = 25, sharp_frames: set[int] | None = None) -> Path:
    """An MJPEG file of a blurred scene (a child moving, a camera out of focus) in which only
    ``sharp_frames`` are in focus; by default the frame in the middle."""
    count = int(seconds * fps)
    sharp = {count // 2} if sharp_frames is None else sharp_frames
    clear = scene()
    blurred = cv2.GaussianBlur(clear, (21, 21), 8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (clear.shape[1], clear.shape[0]))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write MJPEG video here")
    try:
        for index in range(count):
            writer.write(clear if index in sharp else blurred)
    finally:
        writer.release()
    return path
