"""The mailbox read by ``mimamori worker --inbound`` as deployed, killed and restarted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from core.addresses import counted_addresses
from core.registration import issue_link_code
from tests.conftest import REPO
from tests.factories import make_guardian
from tests.imapserver import ImapServer
from tests.mail.conftest import compose, eventually
from tests.mailsink import MailSink


def _start(cli_env: dict[str, str], imap: ImapServer, sink: MailSink, log: Path) -> subprocess.Popen:
    env = {
        **cli_env,
        "PYTHONPATH": str(REPO),
        "MIMAMORI_IMAP__HOST": "127.0.0.1",
        "MIMAMORI_IMAP__PORT": str(imap.port),
        "MIMAMORI_IMAP__USERNAME": imap.user,
        "MIMAMORI_IMAP__PASSWORD": imap.password,
        "MIMAMORI_SMTP__PORT": str(sink.port),
        "MIMAMORI_SMTP__FROM_ADDRESS": "mimamori@city.example.jp",
        "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05",
        # Answers are outbox rows: what the killed worker had claimed waits out its lease, and one
        # connection keeps to one the answers in flight at the kill.
        "MIMAMORI_DELIVERY__LEASE_SECONDS": "5",
        "MIMAMORI_SMTP__CONNECTIONS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mimamori", "worker", "--inbound"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_a_worker_killed_while_reading_mail_loses_none_and_registers_each_once(
    database_url, cli_env, imap_server: ImapServer, mail_sink: MailSink, tmp_path: Path
) -> None:
    guardians = [await make_guardian() for _ in range(8)]
    for n, guardian in enumerate(guardians):
        code = await issue_link_code(guardian.id)
        imap_server.deliver(compose(f"parent{n}@example.jp", "登録", f"コード {code}"))
    log = tmp_path / "worker.log"

    worker = _start(cli_env, imap_server, mail_sink, log)
    await eventually(lambda: len(mail_sink.received) >= 1, timeout=60)
    worker.send_signal(signal.SIGKILL)
    await asyncio.to_thread(worker.wait, 10)
    imap_server.deliver(compose("late@example.jp", "登録", "コード 0000 0000 0000"))

    restarted = _start(cli_env, imap_server, mail_sink, log)
    try:
        await eventually(lambda: imap_server.subjects() == [] and len(mail_sink.per_recipient()) == 9, timeout=60)
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(restarted.wait, 30) == 0, log.read_text()

    for n, guardian in enumerate(guardians):
        assert [a.value for a in await counted_addresses(guardian.id)] == [f"parent{n}@example.jp"]
    answers = mail_sink.per_recipient()
    assert all("完了" in m.message["Subject"] for m in mail_sink.received if m.rcpt_tos[0] != "late@example.jp")
    assert sum(answers.values()) - len(answers) <= 1  # at most the one answer in flight at the kill
