"""PostgreSQL restarted under a running system, as a minor upgrade, a failover or `systemctl restart`
does: delivery goes on afterwards without anyone restarting Mimamori, nothing is lost, and a sent
notice is not sent again for want of its record."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from core import sealing
from core.config import load_settings
from core.models import Delivery, DeliveryStatus
from core.passwords import Passwords
from core.wire import PASSAGES_PATH
from tests.conftest import NO_ATTENDANCE_CHECKS, REPO
from tests.delivery.conftest import city_wide_broadcast
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.faults.private_postgres import PrivatePostgres, private_postgres, restartable_database_url
from tests.mailsink import MailSink
from tests.net import free_port, wait_for_http

__all__ = ["private_postgres", "restartable_database_url"]  # fixtures, used by name

pytestmark = pytest.mark.slow

# a few notices in flight at a time, so that most of the broadcast is claimed after the restart
SMALL_BATCHES = {"MIMAMORI_DELIVERY__BATCH_SIZE": "20"}


class System:
    """`mimamori serve` or `mimamori worker` processes on the private server, logging to one file."""

    def __init__(self, database_url: str, keyring: Path, sink: MailSink, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "mimamori.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")} | {
            "PYTHONPATH": str(REPO),
            "MIMAMORI_DATA_DIR": str(root / "var"),
            "MIMAMORI_DATABASE_URL": database_url,
            "MIMAMORI_KEYRING": str(keyring),
            "MIMAMORI_SMTP__PORT": str(sink.port),
            "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05",
            "MIMAMORI_PORTAL__PORT": str(self.port),
            "MIMAMORI_PORTAL__PUBLIC_URL": self.url,
            **NO_ATTENDANCE_CHECKS,
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *command: str, **settings: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "mimamori", *command],
            env=self.env | settings,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def running(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self) -> list[int]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return [process.wait(timeout=60) for process in self.processes]


@pytest.fixture
def system(restartable_database_url: str, keyring_path: Path, mail_sink: MailSink, tmp_path: Path) -> Iterator[System]:
    running = System(restartable_database_url, keyring_path, mail_sink, tmp_path)
    yield running
    codes = running.stop()
    assert codes == [0] * len(codes), running.log.read_text(errors="replace")[-5000:]


async def _until(condition, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` (sync or async) is true."""
    began = time.monotonic()
    while True:
        done = condition()
        if asyncio.iscoroutine(done):
            done = await done
        if done:
            return time.monotonic() - began
        assert time.monotonic() - began < timeout, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.1)


async def _settled() -> bool:
    try:
        return not await Delivery.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]).exists()
    except Exception:  # noqa: BLE001 - this process's own pool is reconnecting too
        return False


@pytest.mark.parametrize("deployment", ["serve", "two workers"])
async def test_a_restart_mid_broadcast_reaches_every_address_and_the_processes_keep_running(
    deployment,
    system: System,
    private_postgres: PrivatePostgres,
    mail_sink: MailSink,
    tmp_path,
) -> None:
    settings = load_settings(
        None,
        data_dir=tmp_path / "var",
        database_url=system.env["MIMAMORI_DATABASE_URL"],
        keyring=system.env["MIMAMORI_KEYRING"],
    )
    addresses = await city_wide_broadcast(Passwords(settings.accounts, sealing.installed()), settings, 500)
    if deployment == "serve":
        system.start("serve", **SMALL_BATCHES, MIMAMORI_SMTP__RATE_PER_SECOND="60")
    else:
        for _ in range(2):
            system.start("worker", **SMALL_BATCHES, MIMAMORI_SMTP__RATE_PER_SECOND="30")
    mail_sink.wait_for(len(addresses) // 5, timeout=90)

    before = len(mail_sink.received)
    away = private_postgres.restart(down_seconds=3)
    restarted_at = time.monotonic()
    after_restart = len(mail_sink.received)
    assert after_restart < len(addresses), "the broadcast finished before the restart"

    # sending resumes (not just the mails that were already in the SMTP connections' hands)
    resumed = await _until(lambda: len(mail_sink.received) > after_restart + 50, 30, "sending resumed")
    await _until(lambda: len(set(mail_sink.per_recipient())) >= len(addresses), 120, "every address reached")
    await _until(_settled, 60, "every delivery recorded")
    assert system.running(), system.log.read_text(errors="replace")[-5000:]

    per_recipient = mail_sink.per_recipient()
    assert set(per_recipient) == addresses
    duplicates = sum(per_recipient.values()) - len(per_recipient)
    print(
        f"\n{deployment}: PostgreSQL away {away:.1f} s after {before} of {len(addresses)} mails; "
        f"sending again {resumed:.1f} s after it was back; lost 0, sent twice {duplicates}, "
        f"all sent {time.monotonic() - restarted_at:.1f} s after the restart"
    )
    assert duplicates == 0  # outcomes of mails sent meanwhile waited in memory, not for a lease
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(addresses)
    text = system.log.read_text(errors="replace")
    assert "Traceback" not in text, text[-5000:]
    assert "the database is unavailable" in text and "working again" in text


async def test_a_passage_after_a_restart_while_idle_is_told_within_ten_seconds(
    system: System,
    private_postgres: PrivatePostgres,
    mail_sink: MailSink,
) -> None:
    site = await make_site()
    for name, tag, email in (
        ("山田 花子", "0A1B2C3D4E", "keiko@example.jp"),
        ("佐藤 一郎", "1F2E3D4C5B", "naoki@example.jp"),
    ):
        await make_guardian(pupils=[await make_pupil(site, name, tag=tag)], emails=[email])
    _, key = await make_gate(site)
    system.start("serve")
    wait_for_http(f"{system.url}/healthz", timeout=60)

    async with httpx.AsyncClient(base_url=system.url, timeout=10) as client:

        async def passage(tag: str) -> httpx.Response:  # another child each time: a repeat tells nobody
            event = {
                "event_id": str(uuid.uuid4()),
                "tag": tag,
                "seen_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            }
            return await client.post(
                PASSAGES_PATH,
                headers={"Authorization": f"Bearer {key}"},
                files={"event": (None, json.dumps(event), "application/json")},
            )

        assert (await passage("0A1B2C3D4E")).status_code == 201
        mail_sink.wait_for(1, timeout=30)

        away = private_postgres.restart(down_seconds=2)
        back = time.monotonic()
        answer = await passage("1F2E3D4C5B")
        if answer.status_code == 503:  # the portal's pool found its connections gone: the gate retries
            assert "Retry-After" in answer.headers
            answer = await passage("1F2E3D4C5B")
        assert answer.status_code == 201, answer.text
        told = await _until(lambda: mail_sink.to("naoki@example.jp"), 10, "the second passage's notice")
    print(
        f"\nidle restart: PostgreSQL away {away:.1f} s; the next passage told {told:.1f} s after its 201, "
        f"{time.monotonic() - back:.1f} s after the database was back"
    )
    assert system.running()
