"""The ingest API as a gate meets it: a passage accepted once, and every refusal with its reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import cv2
import httpx
import numpy as np
import pytest

from core.config import load_settings
from core.models import Delivery, Gate, Passage, Photo
from core.wire import HEARTBEAT_PATH, PASSAGES_PATH
from portal.app import create_app
from tests.factories import make_gate, make_guardian, make_pupil, make_site

SEEN = datetime.now(UTC).replace(microsecond=0)


def jpeg(size: int = 64) -> bytes:
    image = np.random.default_rng(1).integers(0, 255, (size, size, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def event(tag: str = "0A1B2C3D4E", event_id: str | None = None, **changes) -> str:
    return json.dumps({"event_id": event_id or str(uuid.uuid4()), "tag": tag, "seen_at": SEEN.isoformat(), **changes})


@pytest.fixture
async def gate_key(database_url) -> str:
    site = await make_site()
    pupil = await make_pupil(site, "山田 花子", tag="0A1B2C3D4E")
    await make_guardian(pupils=[pupil], emails=["keiko@example.jp"])
    _, key = await make_gate(site)
    return key


@pytest.fixture
async def client(settings):
    small = load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        photos={"max_bytes": 20_000},
    )
    transport = httpx.ASGITransport(app=create_app(small))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        yield client


def _post(client: httpx.AsyncClient, key: str | None, *, event_part: str | None = None, photo=None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    files = {}
    if event_part is not None:
        files["event"] = (None, event_part, "application/json")
    if photo is not None:
        files["photo"] = photo
    return client.post(PASSAGES_PATH, headers=headers, files=files or None, **kwargs)


def _refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()["detail"]


async def test_a_passage_with_its_still_is_accepted_with_its_id(client, gate_key) -> None:
    still = jpeg()
    response = await _post(
        client, gate_key, event_part=event(reader="entrance"), photo=("still.jpg", still, "image/jpeg")
    )
    assert response.status_code == 201
    body = response.json()
    passage = await Passage.get(id=body["passage_id"])
    assert body["duplicate"] is False and passage.reader == "entrance" and passage.seen_at == SEEN
    assert (await Photo.get(passage_id=passage.id)).jpeg == still
    assert await Delivery.filter(passage_id=passage.id).count() == 1


async def test_a_passage_without_a_still_is_accepted_with_the_reason(client, gate_key) -> None:
    response = await _post(client, gate_key, event_part=event(photo_missing="camera: stream stopped"))
    assert response.status_code == 201
    assert await Photo.all().count() == 0
    assert (await Passage.get()).photo_missing == "camera: stream stopped"


async def test_the_same_event_sent_again_answers_200_with_the_same_id(client, gate_key) -> None:
    repeated = event()
    first = await _post(client, gate_key, event_part=repeated, photo=("still.jpg", jpeg(), "image/jpeg"))
    again = await _post(client, gate_key, event_part=repeated, photo=("still.jpg", jpeg(), "image/jpeg"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"passage_id": first.json()["passage_id"], "duplicate": True}
    assert await Passage.all().count() == 1 and await Delivery.all().count() == 1


@pytest.mark.parametrize("key", [None, "not-the-key", "Basic"])
async def test_a_request_without_the_gate_key_is_refused_401(client, gate_key, key) -> None:
    headers = {"Authorization": "Basic " + gate_key} if key == "Basic" else {}
    response = await (
        client.post(PASSAGES_PATH, headers=headers, files={"event": (None, event())})
        if key == "Basic"
        else _post(client, key, event_part=event())
    )
    assert _refused(response, 401) == "a valid gate key is needed"
    assert response.headers["www-authenticate"] == "Bearer"
    assert await Passage.all().count() == 0


async def test_a_revoked_gate_is_refused_401(client, gate_key) -> None:
    await Gate.all().update(revoked_at=datetime.now(UTC))
    assert _refused(await _post(client, gate_key, event_part=event()), 401)


async def test_a_photo_over_the_limit_is_refused_413(client, gate_key) -> None:
    huge = jpeg(400)
    assert len(huge) > 20_000 + 16 * 1024
    response = await _post(client, gate_key, event_part=event(), photo=("still.jpg", huge, "image/jpeg"))
    assert _refused(response, 413) == "the upload is larger than 36384 bytes"
    slightly = jpeg(100)
    slightly = slightly[:-2] + b"\x00" * (21_000 - len(slightly)) + b"\xff\xd9"
    response = await _post(client, gate_key, event_part=event(), photo=("still.jpg", slightly, "image/jpeg"))
    assert _refused(response, 413) == "the photo is larger than 20000 bytes"
    assert await Passage.all().count() == 0


@pytest.mark.parametrize(
    ("event_part", "photo", "reason"),
    [
        (None, ("still.jpg", jpeg(), "image/jpeg"), "the event part is missing"),
        ("{not json", None, "event: "),
        (event(seen_at="2026-11-25T08:00:00"), None, "event: seen_at: Input should have timezone info"),
        (event(event_id="42"), None, "event: event_id: "),
        (event(tag=""), None, "event: tag: "),
        (event(color="red"), None, "event: color: Extra inputs are not permitted"),
        (event(reader="gate\x00"), None, "event: reader: Value error, must not contain NUL characters"),
        (
            event(),
            ("still.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "image/png"),
            "the photo must be image/jpeg, not image/png",
        ),
        (event(), ("still.jpg", b"GIF89a" + b"\x00" * 50, "image/jpeg"), "the photo is not a JPEG"),
    ],
)
async def test_a_malformed_passage_is_refused_422_with_its_reason(client, gate_key, event_part, photo, reason) -> None:
    response = await _post(client, gate_key, event_part=event_part, photo=photo)
    assert _refused(response, 422).startswith(reason)
    assert await Passage.all().count() == 0


async def test_a_body_that_is_not_multipart_is_refused_422(client, gate_key) -> None:
    headers = {"Authorization": f"Bearer {gate_key}"}
    response = await client.post(PASSAGES_PATH, headers=headers, json=json.loads(event()))
    assert _refused(response, 422) == "the body must be multipart/form-data with an event part"
    broken = await client.post(
        PASSAGES_PATH, headers={**headers, "Content-Type": "multipart/form-data"}, content=b"--x\r\n"
    )
    assert _refused(broken, 422).startswith("malformed multipart body")
    garbage = await client.post(
        PASSAGES_PATH,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=zz"},
        content=bytes(range(256)) * 8,
    )
    assert _refused(garbage, 422)


async def test_a_heartbeat_is_recorded(client, gate_key) -> None:
    beat = {
        "gate_version": "0.1.0",
        "sent_at": SEEN.isoformat(),
        "reader_alive": True,
        "camera_alive": False,
        "camera_error": "stream ended",
        "spool_depth": 2,
    }
    response = await client.post(HEARTBEAT_PATH, headers={"Authorization": f"Bearer {gate_key}"}, json=beat)
    assert response.status_code == 204
    gate = await Gate.get()
    assert gate.health["camera_error"] == "stream ended" and gate.last_heartbeat_at > SEEN - timedelta(minutes=1)
    bad = await client.post(HEARTBEAT_PATH, headers={"Authorization": f"Bearer {gate_key}"}, json={"spool_depth": -1})
    assert _refused(bad, 422).startswith("heartbeat: ")
    assert _refused(await client.post(HEARTBEAT_PATH, json=beat), 401)


@pytest.mark.parametrize(
    ("seen_at", "reason"),
    [
        ("9999-12-31T23:59:59+00:00", "event: seen_at: more than 1 day ahead of the server's clock"),
        ("0001-01-01T00:00:00+14:00", "event: seen_at: more than 366 days in the past"),
        ((SEEN + timedelta(days=3)).isoformat(), "event: seen_at: more than 1 day ahead"),
        ((SEEN - timedelta(days=400)).isoformat(), "event: seen_at: more than 366 days in the past"),
    ],
)
async def test_a_passage_far_in_the_future_or_past_is_refused_422_with_its_reason(
    client, gate_key, seen_at, reason
) -> None:
    response = await _post(client, gate_key, event_part=event(seen_at=seen_at))
    assert _refused(response, 422).startswith(reason)
    assert await Passage.all().count() == 0
    spooled = await _post(client, gate_key, event_part=event(seen_at=(SEEN - timedelta(days=20)).isoformat()))
    assert spooled.status_code == 201  # a gate cut off for weeks still delivers what it saw


async def test_a_heartbeat_from_the_year_9999_is_refused_and_not_stored(client, gate_key) -> None:
    beat = {
        "gate_version": "0.1.0",
        "sent_at": "9999-12-31T23:59:59+00:00",
        "reader_alive": True,
        "reader_last_byte_at": SEEN.isoformat(),
        "spool_depth": 0,
    }
    response = await client.post(HEARTBEAT_PATH, headers={"Authorization": f"Bearer {gate_key}"}, json=beat)
    assert _refused(response, 422) == "heartbeat: sent_at: more than 1 day ahead of the server's clock"
    assert (await Gate.get()).last_heartbeat_at is None


async def test_a_heartbeat_over_the_event_limit_is_refused_413_before_it_is_read(client, gate_key) -> None:
    response = await client.post(
        HEARTBEAT_PATH, headers={"Authorization": f"Bearer {gate_key}"}, content=b"{" + b" " * (16 * 1024) + b"}"
    )
    assert _refused(response, 413) == f"the upload is larger than {16 * 1024} bytes"
