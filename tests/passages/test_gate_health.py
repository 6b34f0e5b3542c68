"""Gate heartbeats, and staff told once when a gate goes silent in school hours, and when it is back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from core.gate_health import gate_for_key, record_heartbeat, report_silent_gates
from core.models import Delivery, Gate, NoticeKind
from core.scheduler import Scheduler
from core.wire import Heartbeat
from tests.factories import make_gate, make_site, make_site_staff

WEDNESDAY_MORNING = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo
SATURDAY_MORNING = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)


def _heartbeat(**changes) -> Heartbeat:
    values = dict(gate_version="0.1.0", sent_at=datetime.now(UTC), reader_alive=True, camera_alive=True, spool_depth=3)
    return Heartbeat(**{**values, **changes})


async def _staff_events() -> list[str]:
    return [json.loads(d.payload)["event"] for d in await Delivery.filter(kind=NoticeKind.STAFF).order_by("id")]


async def test_a_gate_is_known_by_its_key_until_revoked(database_url) -> None:
    gate, key = await make_gate(await make_site())
    assert (await gate_for_key(key)).id == gate.id
    assert await gate_for_key(key + "x") is None and await gate_for_key("") is None
    gate.revoked_at = datetime.now(UTC)
    await gate.save()
    assert await gate_for_key(key) is None


async def test_a_heartbeat_records_the_gates_health(database_url) -> None:
    gate, _ = await make_gate(await make_site())
    await record_heartbeat(gate, _heartbeat(reader_alive=False, reader_error="port vanished"), now=WEDNESDAY_MORNING)
    gate = await Gate.get(id=gate.id)
    assert gate.last_heartbeat_at == WEDNESDAY_MORNING
    assert gate.health["reader_alive"] is False and gate.health["reader_error"] == "port vanished"
    assert gate.health["spool_depth"] == 3


async def test_a_silent_gate_is_reported_once_and_its_return_too(database_url, settings) -> None:
    site = await make_site()
    await make_site_staff(site, "kato@school.example.jp")
    gate, _ = await make_gate(site)
    await record_heartbeat(gate, _heartbeat(), now=WEDNESDAY_MORNING)

    assert await report_silent_gates(settings, now=WEDNESDAY_MORNING + timedelta(minutes=9)) == []
    [reported] = await report_silent_gates(settings, now=WEDNESDAY_MORNING + timedelta(minutes=11))
    assert reported.id == gate.id
    assert await report_silent_gates(settings, now=WEDNESDAY_MORNING + timedelta(minutes=30)) == []
    assert await _staff_events() == ["gate_down"]
    assert (await Gate.get(id=gate.id)).down_since == WEDNESDAY_MORNING

    await record_heartbeat(await Gate.get(id=gate.id), _heartbeat(), now=WEDNESDAY_MORNING + timedelta(hours=1))
    await record_heartbeat(
        await Gate.get(id=gate.id), _heartbeat(), now=WEDNESDAY_MORNING + timedelta(hours=1, minutes=1)
    )
    assert await _staff_events() == ["gate_down", "gate_recovered"]
    assert (await Gate.get(id=gate.id)).down_since is None


async def test_a_gate_silent_outside_school_hours_is_not_reported(database_url, settings) -> None:
    site = await make_site()
    await make_site_staff(site, "kato@school.example.jp")
    gate, _ = await make_gate(site)
    await record_heartbeat(gate, _heartbeat(), now=SATURDAY_MORNING)
    assert await report_silent_gates(settings, now=SATURDAY_MORNING + timedelta(hours=1)) == []
    night = WEDNESDAY_MORNING + timedelta(hours=12)  # 21:30 in Tokyo
    await record_heartbeat(gate, _heartbeat(), now=night)
    assert await report_silent_gates(settings, now=night + timedelta(hours=1)) == []
    assert await _staff_events() == []


async def test_a_gate_that_never_spoke_is_not_reported(database_url, settings) -> None:
    site = await make_site()
    await make_gate(site)
    assert await report_silent_gates(settings, now=WEDNESDAY_MORNING) == []


async def test_the_scheduler_reports_silent_gates(database_url, settings) -> None:
    site = await make_site()
    await make_site_staff(site, "kato@school.example.jp")
    gate, _ = await make_gate(site)
    await record_heartbeat(gate, _heartbeat(), now=WEDNESDAY_MORNING)
    scheduler = Scheduler(settings, clock=lambda: WEDNESDAY_MORNING + timedelta(minutes=15))
    await scheduler.run_once()
    assert await _staff_events() == ["gate_down"]
