"""/readyz and `mimamori status` tell whether parents are really being told: the database answers,
a delivery loop (here or in a worker process) went round recently, no passage notice waits too
long, and the mailbox reader is connected when there is a mailbox."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core import heartbeat
from core.config import load_settings
from core.delivery.outbox import enqueue
from core.models import Delivery, NoticeKind
from portal.app import create_app
from tests.cli.test_admin_commands import ENGLISH
from tests.factories import make_guardian


@pytest.fixture(autouse=True)
def no_parts_yet():
    heartbeat.forget()
    yield
    heartbeat.forget()


async def _readyz(settings) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        return await client.get("/readyz")


async def test_not_ready_until_a_delivery_loop_goes_round_and_not_while_a_passage_notice_waits(settings) -> None:
    answer = await _readyz(settings)
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["delivery"]
    assert answer.json()["checks"]["delivery"]["detail"] == "not running"

    heartbeat.round_done("delivery")
    answer = await _readyz(settings)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["checks"]["passage notices"]["detail"] == "none waiting"

    guardian = await make_guardian(emails=["keiko@example.jp"])
    address = (await guardian.addresses.all())[0]
    await enqueue(kind=NoticeKind.PASSAGE, fact="passage:1", address=address, payload={})
    await Delivery.all().update(queued_at=datetime.now(UTC) - timedelta(minutes=5))
    answer = await _readyz(settings)
    assert answer.status_code == 503 and answer.json()["failing"] == ["passage notices"]
    assert answer.json()["checks"]["passage notices"]["detail"] == "oldest waiting 300 s"

    heartbeat.round_failed("delivery", "database unavailable: ConnectionRefusedError")
    failing = (await _readyz(settings)).json()["checks"]["delivery"]
    assert failing == {"ok": False, "detail": "failing: database unavailable: ConnectionRefusedError"}


async def test_a_mailbox_reader_that_is_not_connected_makes_it_not_ready(settings) -> None:
    with_mailbox = load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        imap={"host": "127.0.0.1", "port": 1},
    )
    heartbeat.round_done("delivery")
    heartbeat.round_failed("inbound", "ConnectionRefusedError")
    answer = await _readyz(with_mailbox)
    assert answer.status_code == 503 and answer.json()["failing"] == ["mail reader"]
    heartbeat.round_done("inbound")
    assert (await _readyz(with_mailbox)).status_code == 200


async def test_a_worker_in_another_process_makes_the_portal_ready_and_status_says_so(
    settings,
    cli,
    cli_env,
    mail_sink,
    tmp_path,
) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "worker"],
        cwd=tmp_path,
        env={**cli_env, "MIMAMORI_SMTP__PORT": str(mail_sink.port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (answer := await _readyz(settings)).status_code != 200:  # the portal runs no delivery
            assert time.monotonic() < deadline, answer.json()
            await asyncio.sleep(0.5)
        assert answer.json()["checks"]["delivery"]["ok"]
        status = cli("status", env=ENGLISH)
        assert status.returncode == 0, status.stderr
        assert status.lines[0] == "Ready: yes"
        assert any(line.split()[:2] == ["Delivery", "ok"] for line in status.lines)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, log = worker.communicate(timeout=30)
    assert worker.returncode == 0, log
