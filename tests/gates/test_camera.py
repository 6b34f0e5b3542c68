"""The still: the sharpest frame within half a second of the read, from a real video file
played through OpenCV; and a passage that goes without a photo when there is none."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from gates.camera import Camera, sharpness
from gates.config import CameraConfig
from gates.simulator import make_video
from tests.gates.conftest import wait_until

SHARP = 500.0  # the in-focus scene scores thousands, the blurred one a few dozen


def _decoded(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture
def camera(tmp_path):
    video = make_video(tmp_path / "gate.avi", seconds=3.0, fps=25)  # frame 37 of 75 is in focus
    camera = Camera(CameraConfig(source=str(video), buffer_seconds=3))
    camera.start()
    yield camera
    camera.stop()


def _sharp_frame_time(camera: Camera) -> float:
    found: list[float] = []

    def seen() -> bool:
        found[:] = [frame.at for frame in camera.frames_near(time.time(), window=3) if frame.sharpness > SHARP]
        return bool(found)

    wait_until(seen)
    return found[-1]


async def test_the_still_is_the_sharp_frame_near_the_read_not_the_frame_at_it(camera) -> None:
    sharp_at = _sharp_frame_time(camera)

    still = await camera.still_at(sharp_at + 0.3)  # the frame at the read itself is blurred

    assert still.jpeg is not None and still.missing is None
    assert sharpness(_decoded(still.jpeg)) > SHARP
    assert not any(frame.sharpness > SHARP for frame in camera.frames_near(sharp_at + 0.3, window=0.1))


async def test_a_read_far_from_any_sharp_frame_gets_the_best_blurred_one(camera) -> None:
    sharp_at = _sharp_frame_time(camera)
    still = await camera.still_at(sharp_at - 0.9)
    assert still.jpeg is not None and sharpness(_decoded(still.jpeg)) < SHARP
    assert camera.status.alive and camera.status.error is None


async def test_without_frames_the_passage_goes_on_without_a_photo_marked_so(tmp_path) -> None:
    camera = Camera(CameraConfig(source=str(tmp_path / "no-such-stream.avi")))
    camera.start()
    try:
        started = time.monotonic()
        still = await camera.still_at(time.time())
        assert still.jpeg is None and "no camera frame within 0.5 s" in still.missing
        assert time.monotonic() - started < 5
        assert not camera.status.alive and "cannot open" in camera.status.error
        wait_until(lambda: camera.reopens >= 2)  # tried again, and again
    finally:
        camera.stop()


def test_a_video_file_is_played_over_and_over(camera) -> None:
    wait_until(lambda: len(camera.frames_near(time.time(), window=3)) > 60)
    wait_until(lambda: camera.reopens == 0 and camera.status.alive)
    first = camera.newest_frame_at()
    time.sleep(3.5)  # longer than the file
    assert camera.newest_frame_at() > first + 3 and camera.status.alive
