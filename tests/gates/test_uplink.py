"""A real gate worker against the real centre: a child passes and the guardian is told, with
the still; the centre goes away for a while and the gate restarts meanwhile, and every passage
still arrives, once each, in order."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from core.models import Delivery, Direction, Gate, Passage, Photo
from gates.protocols.em4100_ascii import frame
from gates.uplink import STUCK_AFTER
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.gates.conftest import eventually

TAGS = ["0A1B2C3D4E", "1F2E3D4C5B", "2A2B2C2D2E"]


async def _school() -> str:
    site = await make_site()
    for n, tag in enumerate(TAGS):
        pupil = await make_pupil(site, f"山田 子{n}", tag=tag)
        await make_guardian(f"山田 親{n}", pupils=[pupil], emails=[f"parent{n}@example.jp"])
    _, key = await make_gate(site)
    return key


async def test_a_child_passing_the_gate_reaches_the_centre_once_with_a_still(
    centre, gate_config, reader_port, running_gates
) -> None:
    key = await _school()
    await centre.start()
    gate = running_gates(gate_config(key))
    worker = await gate.start()
    await asyncio.sleep(0.6)  # the camera fills its ring

    for _ in range(5):  # a tag lingering in range is read again and again
        reader_port.write(frame(TAGS[0]))
        await asyncio.sleep(0.05)

    await eventually(lambda: Passage.all().count())
    await eventually(lambda: worker.spool.depth() == 0)
    await asyncio.sleep(0.3)
    [passage] = await Passage.all()
    assert passage.direction in (Direction.ARRIVAL, Direction.DEPARTURE) and passage.reader == "正門"
    assert abs(passage.seen_at.timestamp() - time.time()) < 30
    photo = await Photo.get(passage_id=passage.id)
    assert photo.jpeg.startswith(b"\xff\xd8")
    assert await Delivery.filter(passage_id=passage.id).count() == 1
    await eventually(lambda: Gate.filter(last_heartbeat_at__isnull=False).exists())
    health = (await Gate.get()).health
    assert health["reader_alive"] is True and health["gate_version"]


async def test_after_an_outage_and_a_restart_every_passage_arrives_once_in_order(
    centre, gate_config, reader_port, running_gates
) -> None:
    key = await _school()
    gate = running_gates(gate_config(key, camera=False))
    worker = await gate.start()  # the centre is down
    for tag in TAGS:
        reader_port.write(frame(tag))
        await asyncio.sleep(0.2)
    await eventually(lambda: worker.spool.depth() == 3)
    await eventually(lambda: worker.spool.oldest().attempts > STUCK_AFTER)  # a long outage
    assert worker.uplink.last_error.startswith("the centre is unreachable")
    beat = await worker.heartbeat()
    assert beat.spool_depth == 3 and beat.camera_alive is None
    await gate.stop()  # the gate restarts while the centre is away

    worker = await gate.start()
    await centre.start()
    await eventually(lambda: worker.spool.depth() == 0)

    passages = await Passage.all().order_by("id").prefetch_related("tag")
    assert [p.tag_number for p in passages] == TAGS
    assert [p.seen_at for p in passages] == sorted(p.seen_at for p in passages)
    assert await Delivery.all().count() == 3
    assert await Photo.all().count() == 0  # a hall-like gate without a camera


async def test_an_upload_the_centre_took_but_the_gate_never_heard_of_is_not_doubled(
    centre, gate_config, running_gates
) -> None:
    key = await _school()
    await centre.start()
    worker = await running_gates(gate_config(key, camera=False)).start()
    event_id = uuid.uuid4()
    for _ in range(2):  # the answer was lost, so the gate sends it again
        await asyncio.to_thread(worker.spool.add, event_id, TAGS[1], datetime.now(UTC))
        worker.uplink.wake()
        await eventually(lambda: worker.spool.depth() == 0)
    assert await Passage.filter(event_id=event_id).count() == 1
    assert await Delivery.all().count() == 1


async def test_a_passage_the_centre_refuses_for_good_does_not_block_the_others(
    centre, gate_config, running_gates
) -> None:
    key = await _school()
    await centre.start()
    worker = await running_gates(gate_config(key, camera=False)).start()
    refused = uuid.uuid4()
    await asyncio.to_thread(worker.spool.add, refused, TAGS[1], datetime.now(UTC), photo=b"\xff\xd8 not really")
    await asyncio.to_thread(worker.spool.add, uuid.uuid4(), TAGS[2], datetime.now(UTC))
    worker.uplink.wake()
    await eventually(lambda: worker.spool.depth() == 0)
    [(event_id, reason)] = worker.spool.rejected()
    assert event_id == refused and reason == "HTTP 422: the photo is not a JPEG"
    assert await Passage.all().count() == 1


async def test_a_passage_the_centre_keeps_failing_goes_behind_the_later_ones_and_arrives_once_fixed(
    centre, gate_config, running_gates
) -> None:
    key = await _school()
    await centre.start()
    worker = await running_gates(gate_config(key, camera=False)).start()
    stuck, *later = (uuid.uuid4() for _ in TAGS)
    centre.fails[str(stuck)] = 500
    for event_id, tag in zip((stuck, *later), TAGS, strict=True):
        await asyncio.to_thread(worker.spool.add, event_id, tag, datetime.now(UTC))
    worker.uplink.wake()

    await eventually(lambda: worker.spool.depth() == 1)
    assert await Passage.filter(event_id__in=later).count() == len(later)
    assert worker.spool.depth() == 1 and worker.spool.oldest().event_id == stuck
    await eventually(lambda: (worker.uplink.last_error or "").startswith("HTTP 500"))  # still tried
    del centre.fails[str(stuck)]  # the centre's bug is fixed
    await eventually(lambda: worker.spool.depth() == 0)
    assert await Passage.filter(event_id=stuck).exists() and await Passage.all().count() == len(TAGS)


async def test_an_event_the_centre_calls_bad_is_set_aside_kept_and_reported(centre, gate_config, running_gates) -> None:
    key = await _school()
    await centre.start()
    worker = await running_gates(gate_config(key, camera=False)).start()
    bad, good = uuid.uuid4(), uuid.uuid4()
    centre.fails[str(bad)] = 400
    await asyncio.to_thread(worker.spool.add, bad, TAGS[0], datetime.now(UTC))
    await asyncio.to_thread(worker.spool.add, good, TAGS[1], datetime.now(UTC))
    worker.uplink.wake()

    await eventually(lambda: Passage.filter(event_id=good).exists())
    assert [event_id for event_id, _ in worker.spool.rejected()] == [bad]
    assert await worker.uplink.heartbeat(await worker.heartbeat())
    assert (await Gate.get()).health["spool_rejected"] == 1  # the centre sees it set aside


async def test_a_wrong_gate_key_keeps_everything_spooled(centre, gate_config, reader_port, running_gates) -> None:
    await _school()
    await centre.start()
    worker = await running_gates(gate_config("not-the-key", camera=False)).start()
    reader_port.write(frame(TAGS[0]))
    await eventually(lambda: worker.uplink.last_error is not None)
    assert worker.uplink.last_error == "HTTP 401: a valid gate key is needed"
    assert worker.spool.depth() == 1 and await Passage.all().count() == 0


async def test_a_passage_goes_without_a_photo_when_the_camera_is_dead_and_says_why(
    centre, gate_config, reader_port, running_gates
) -> None:
    key = await _school()
    await centre.start()
    config = gate_config(key)
    config.camera.source = "/nonexistent/camera.avi"
    worker = await running_gates(config).start()
    reader_port.write(frame(TAGS[0]))
    await eventually(lambda: Passage.all().exists())
    [passage] = await Passage.all()
    assert passage.photo_missing.startswith("no camera frame within 0.5 s (cannot open")
    assert not await Photo.all().exists() and await Delivery.all().count() == 1
    assert (await worker.heartbeat()).camera_alive is False
