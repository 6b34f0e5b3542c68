"""The camera (OpenCV): a capture thread keeps the last ``buffer_seconds`` of frames, and a
detection's still is the sharpest frame within ±0.5 s of it (variance of the Laplacian).

Each frame is scored and JPEG-encoded as it is captured and kept only as JPEG: two seconds of
raw 640x480 frames would take 46 MB (140 MB at 720p) of a small gate's memory, the JPEGs a few.

Cameras wake late and blur moving children; picking from a ring around the moment of the read
shows the child at the gate rather than the empty gate 300 ms later. A dead stream is reopened
with growing delays; a passage never waits long for a photo — without one it goes on, marked so.
A video file is played at its own frame rate, over and over (the simulator uses this).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gates.config import CameraConfig

log = logging.getLogger(__name__)

WINDOW_SECONDS = 0.5
ALIVE_SECONDS = 2.0  # a camera without a frame for this long is reported dead
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
STREAM_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Still:
    jpeg: bytes | None
    missing: str | None = None  # why there is no photo


@dataclass(frozen=True)
class Frame:
    at: float  # wall-clock time of capture
    sharpness: float
    jpeg: bytes


@dataclass(frozen=True)
class CameraStatus:
    alive: bool
    error: str | None


def sharpness(frame: np.ndarray) -> float:
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


class Camera:
    def __init__(self, config: CameraConfig) -> None:
        self._config = config
        self._frames: deque[Frame] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._error: str | None = None
        self.reopens = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def status(self) -> CameraStatus:
        newest = self.newest_frame_at()
        alive = newest is not None and time.time() - newest < ALIVE_SECONDS
        return CameraStatus(alive, None if alive else (self._error or "no frames yet"))

    def newest_frame_at(self) -> float | None:
        with self._lock:
            return self._frames[-1].at if self._frames else None

    def frames_near(self, moment: float, window: float = WINDOW_SECONDS) -> list[Frame]:
        with self._lock:
            return [frame for frame in self._frames if abs(frame.at - moment) <= window]

    async def still_at(self, moment: float) -> Still:
        """The sharpest frame within ±0.5 s of wall-clock ``moment``, as JPEG; waits for the
        frames after it, but never much longer than the window."""
        give_up = time.time() + 2 * WINDOW_SECONDS
        while (self.newest_frame_at() or 0) < moment + WINDOW_SECONDS and time.time() < give_up:
            await asyncio.sleep(0.05)
        candidates = self.frames_near(moment)
        if not candidates:
            reason = f"no camera frame within {WINDOW_SECONDS} s ({self._error or 'camera silent'})"
            log.warning("camera: %s", reason)
            return Still(None, reason)
        return Still(max(candidates, key=lambda frame: frame.sharpness).jpeg)

    # ---- the capture thread ----------------------------------------------------------------

    def _source(self) -> int | str:
        source = self._config.source.strip()
        return int(source) if source.isdigit() else source

    def _open(self) -> cv2.VideoCapture:
        source = self._source()
        if isinstance(source, str) and "://" in source:
            return cv2.VideoCapture(
                source,
                cv2.CAP_FFMPEG,
                [
                    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                    STREAM_TIMEOUT_MS,
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                    STREAM_TIMEOUT_MS,
                ],
            )
        return cv2.VideoCapture(source)

    def _run(self) -> None:
        delay = RETRY_FIRST
        while not self._stop.is_set():
            capture = self._open()
            try:
                if capture.isOpened():
                    if self._capture(capture):
                        delay = RETRY_FIRST
                    self._error = self._error or "the stream ended"
                else:
                    self._error = f"cannot open {self._config.source}"
            finally:
                capture.release()
            if self._stop.is_set():
                break
            log.warning("camera: %s; reopening in %.1f s", self._error, delay)
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, RETRY_MAX)
            self.reopens += 1

    def _capture(self, capture: cv2.VideoCapture) -> bool:
        """Read frames until the stream dies; returns whether any frame came."""
        source = self._source()
        is_file = isinstance(source, str) and Path(source).is_file()
        interval = 1.0 / (capture.get(cv2.CAP_PROP_FPS) or 25.0) if is_file else 0.0
        next_due = time.monotonic()
        got_any = rewound = False
        while not self._stop.is_set():
            ok, image = capture.read()
            if not ok:
                if is_file and not rewound and capture.set(cv2.CAP_PROP_POS_FRAMES, 0):
                    rewound = True
                    continue
                self._error = "the stream stopped giving frames"
                return got_any
            got_any, rewound, self._error = True, False, None
            self._keep(time.time(), image)
            if interval:
                next_due += interval
                pause = next_due - time.monotonic()
                if pause > 0:
                    self._stop.wait(pause)
                else:
                    next_due = time.monotonic()
        return got_any

    def _keep(self, at: float, image: np.ndarray) -> None:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._config.jpeg_quality])
        if not ok:
            return
        frame = Frame(at, sharpness(image), encoded.tobytes())
        with self._lock:
            self._frames.append(frame)
            while self._frames and self._frames[0].at < at - self._config.buffer_seconds:
                self._frames.popleft()
