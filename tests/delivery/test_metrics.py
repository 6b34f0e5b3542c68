"""An operator's Prometheus scrapes the endpoint and sees the queue, the latency, the gates and the
broadcasts under way — behind its token, and still answering while the database is away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from tortoise.transactions import in_transaction

from core import broadcasts
from core.addresses import counted_addresses
from core.config import Settings, SettingsError, load_settings
from core.delivery.outbox import Priority
from core.gate_health import record_heartbeat
from core.metrics import DatabaseCollector, scrape_registry
from core.models import BroadcastCategory
from core.passages import record_passage
from core.wire import Heartbeat, PassageEvent
from mimamori.metrics_endpoint import serve_metrics
from tests import factories
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.net import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _with_metrics(settings: Settings, **metrics: object) -> Settings:
    return load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        smtp=settings.smtp.model_dump(),
        delivery=settings.delivery.model_dump(),
        portal=settings.portal.model_dump(),
        metrics={"enabled": True, "port": free_port(), **metrics},
    )


@pytest.fixture
async def endpoint(mail_settings: Settings) -> AsyncIterator[Settings]:
    settings = _with_metrics(mail_settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_metrics(settings, stop))
    await _wait_listening(settings)
    yield settings
    stop.set()
    await task


async def queue_passage_notice(email: str) -> None:
    """A guardian with one address and an urgent passage notice queued for it."""
    guardian = await make_guardian(emails=[email])
    [address] = await counted_addresses(guardian.id)
    await factories.queue_passage_notice(address, seen_at=datetime.now(UTC))


async def _wait_listening(settings: Settings) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection(settings.metrics.host, settings.metrics.port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return
    raise AssertionError("the metrics endpoint never listened")


async def _scrape(settings: Settings, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{settings.metrics.port}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return _parse(answer.text)


async def test_a_passage_notice_shows_in_the_queue_then_as_sent_with_its_latency(endpoint, deliver) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    site = await make_site()
    await make_pupil(site, tag="0A1B2C3D4E")
    await guardian.pupils.add(*await site.pupils.all())
    gate, _ = await make_gate(site)
    await gate.fetch_related("site")
    seen = datetime.now(UTC) - timedelta(seconds=3)
    before = await _scrape(endpoint)

    await record_passage(
        gate,
        PassageEvent(event_id="6f0c2a1e-0000-4000-8000-000000000001", tag="0A1B2C3D4E", seen_at=seen),
        None,
        endpoint,
    )
    queued = await _scrape(endpoint)
    assert (
        _value(
            queued,
            "mimamori_outbox_depth",
            channel="email",
            kind="passage",
            status="queued",
            priority=str(int(Priority.TRANSACTIONAL)),
        )
        == 1
    )
    assert _value(queued, "mimamori_outbox_oldest_age_seconds", channel="email", kind="passage") >= 0
    site_passages = ("mimamori_passages_total", {"site": str(site.id), "outcome": "notified"})
    assert (
        _value(queued, site_passages[0], **site_passages[1]) == _value(before, site_passages[0], **site_passages[1]) + 1
    )

    await deliver()
    after = await _scrape(endpoint)
    sent = ("mimamori_delivery_outcomes_total", {"channel": "email", "lane": "other", "result": "sent"})
    assert _value(after, sent[0], **sent[1]) == _value(before, sent[0], **sent[1]) + 1
    latency = ("mimamori_passage_notice_latency_seconds", {"channel": "email"})
    assert _value(after, f"{latency[0]}_count", **latency[1]) == _value(before, f"{latency[0]}_count", **latency[1]) + 1
    grew = _value(after, f"{latency[0]}_sum", **latency[1]) - _value(before, f"{latency[0]}_sum", **latency[1])
    assert 3 <= grew < 60  # detected three seconds before it was recorded
    # the slowest bucket that still holds it: the two-second one does not, the five-second one does
    assert _value(after, f"{latency[0]}_bucket", **latency[1], le="2.0") == _value(
        before, f"{latency[0]}_bucket", **latency[1], le="2.0"
    )
    assert _value(after, "mimamori_claimed_deliveries_total", channel="email") > _value(
        before, "mimamori_claimed_deliveries_total", channel="email"
    )
    assert _value(after, "mimamori_claim_duration_seconds_count", channel="email") > _value(
        before, "mimamori_claim_duration_seconds_count", channel="email"
    )
    assert not any(name == "mimamori_outbox_depth" and ("kind", "passage") in labels for name, labels in after)


async def test_a_refused_send_is_retried_and_counted(endpoint, mail_sink, deliver) -> None:
    await queue_passage_notice("keiko@example.jp")
    before = await _scrape(endpoint)
    mail_sink.answer("keiko@example.jp", "451 4.3.0 Mailbox temporarily unavailable")

    await deliver()

    after = await _scrape(endpoint)
    for name, labels in (
        ("mimamori_delivery_outcomes_total", {"channel": "email", "lane": "other", "result": "retry"}),
        ("mimamori_delivery_outcomes_total", {"channel": "email", "lane": "other", "result": "sent"}),
        ("mimamori_delivery_retries_total", {"channel": "email"}),
    ):
        assert _value(after, name, **labels) == _value(before, name, **labels) + 1, (name, labels)


async def test_gates_show_their_heartbeat_age_spool_and_school_hours_by_id(endpoint) -> None:
    site = await make_site()
    gate, _ = await make_gate(site)
    quiet, _ = await make_gate(site, "裏門")
    await record_heartbeat(
        gate,
        Heartbeat(gate_version="0.1.0", sent_at=datetime.now(UTC), reader_alive=True, spool_depth=7),
        now=datetime.now(UTC) - timedelta(seconds=120),
    )

    samples = await _scrape(endpoint)

    labels = {"gate": str(gate.id), "site": str(site.id)}
    assert 119 <= _value(samples, "mimamori_gate_heartbeat_age_seconds", **labels) < 180
    assert _value(samples, "mimamori_gate_spool_depth", **labels) == 7
    assert ("mimamori_gate_school_hours", frozenset(labels.items())) in samples
    quiet_labels = frozenset({"gate": str(quiet.id), "site": str(site.id)}.items())
    assert ("mimamori_gate_heartbeat_age_seconds", quiet_labels) not in samples  # never heard from
    assert not any("正門" in value or "みどり" in value for _, labels_ in samples for _, value in labels_)


async def test_a_broadcast_under_way_shows_its_progress_by_status_and_a_drill_apart(endpoint, deliver) -> None:
    site = await make_site()
    for n in range(3):
        guardian = await make_guardian(f"保護者 {n}", emails=[f"g{n}@example.jp"])
        await guardian.pupils.add(await make_pupil(site, f"児童 {n}"))
    alert, drill = [
        await broadcasts.create_draft(
            author=None,
            scope=await broadcasts.parse_scope("all"),
            category=BroadcastCategory.GENERAL,
            title="t",
            body="b",
            ack_requested=False,
            drill=drill,
        )
        for drill in (False, True)
    ]
    await broadcasts.confirm(alert.id, by=None)
    await broadcasts.confirm(drill.id, by=None)

    fanning = await _scrape(endpoint)
    assert _value(fanning, "mimamori_broadcast_fanning_out", broadcast=str(alert.id), drill="0") == 1
    assert _value(fanning, "mimamori_broadcast_fanning_out", broadcast=str(drill.id), drill="1") == 1
    await broadcasts.continue_fanouts(endpoint)
    queued = await _scrape(endpoint)
    assert _value(queued, "mimamori_broadcast_deliveries", broadcast=str(alert.id), status="queued", drill="0") == 3
    assert _value(queued, "mimamori_broadcast_deliveries", broadcast=str(drill.id), status="queued", drill="1") == 3
    assert not any(name == "mimamori_broadcast_fanning_out" for name, _ in queued)

    await deliver()
    done = await _scrape(endpoint)
    assert not any(name == "mimamori_broadcast_deliveries" for name, _ in done)  # no longer under way


async def test_the_endpoint_wants_its_token_when_one_is_set(mail_settings) -> None:
    settings = _with_metrics(mail_settings, token="s3cret-scrape-token")
    stop = asyncio.Event()
    task = asyncio.create_task(serve_metrics(settings, stop))
    try:
        await _wait_listening(settings)
        url = f"http://127.0.0.1:{settings.metrics.port}/metrics"
        async with httpx.AsyncClient() as client:
            assert (await client.get(url)).status_code == 401
            assert (await client.get(url, headers={"Authorization": "Bearer wrong"})).status_code == 401
            assert (await client.get(url.replace("/metrics", "/"))).status_code == 404
        assert _value(await _scrape(settings, token="s3cret-scrape-token"), "mimamori_metrics_database_up") == 1
    finally:
        stop.set()
        await task


def test_metrics_are_off_by_default_and_never_public_without_a_token() -> None:
    defaults = load_settings(None)
    assert defaults.metrics.enabled is False and defaults.metrics.host == "127.0.0.1"
    with pytest.raises(SettingsError, match="metrics.token: needed when metrics.host is not a loopback"):
        load_settings(None, metrics={"enabled": True, "host": "0.0.0.0"})
    assert load_settings(None, metrics={"host": "0.0.0.0", "token": "t"}).metrics.host == "0.0.0.0"


async def test_disabled_metrics_listen_nowhere(mail_settings) -> None:
    await asyncio.wait_for(serve_metrics(mail_settings, asyncio.Event()), 1)  # returns at once


async def test_while_the_database_is_away_the_scrape_answers_without_its_gauges(endpoint, caplog) -> None:
    await make_gate(await make_site())  # something to show once it is back
    collector = DatabaseCollector(endpoint)
    registry = scrape_registry(collector)
    caplog.set_level(logging.WARNING, logger="core.metrics")

    class Away(Exception):
        pass

    with pytest.raises(Away):
        # the gates' table gone for the length of this transaction, which the collector reads through
        async with in_transaction() as connection:
            await connection.execute_query('ALTER TABLE "gate" RENAME TO "gate_away"')
            for _ in range(2):
                await collector.refresh()
                samples = _parse(generate_latest(registry).decode())
                assert _value(samples, "mimamori_metrics_database_up") == 0
                assert not any(name.startswith(("mimamori_outbox", "mimamori_gate")) for name, _ in samples)
                assert any(name.startswith("mimamori_claim_duration") for name, _ in samples)  # counts still there
            raise Away

    assert len([r for r in caplog.records if r.name == "core.metrics"]) == 1  # said once, not per scrape
    await collector.refresh()
    samples = _parse(generate_latest(registry).decode())
    assert _value(samples, "mimamori_metrics_database_up") == 1
    assert any(name == "mimamori_gate_school_hours" for name, _ in samples)


async def test_a_second_process_waits_for_the_port_and_takes_over_when_the_holder_stops(
    mail_settings, monkeypatch, caplog
) -> None:
    import mimamori.metrics_endpoint as endpoint_module

    monkeypatch.setattr(endpoint_module, "RETRY_BIND_SECONDS", 0.1)
    settings = _with_metrics(mail_settings)
    holder = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", settings.metrics.port)
    caplog.set_level(logging.WARNING, logger="mimamori.metrics_endpoint")
    stop = asyncio.Event()
    task = asyncio.create_task(serve_metrics(settings, stop))
    try:
        await asyncio.sleep(0.5)  # several tries
        assert not task.done()
        assert len([r for r in caplog.records if "cannot listen" in r.getMessage()]) == 1
        holder.close()
        await holder.wait_closed()
        for _ in range(50):
            try:
                samples = await _scrape(settings)
                break
            except (httpx.HTTPError, AssertionError):
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the endpoint never took the port over")
        assert _value(samples, "mimamori_metrics_database_up") == 1
    finally:
        stop.set()
        await task
