"""``mimamori serve`` as deployed says in its log what its mail reader did, as ``mimamori worker
--inbound`` does: a guardian registering by mail, a bounce, an auto-reply left unanswered. The
lines name no address and no code."""

from __future__ import annotations

import asyncio
import csv
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_walk import Deployment, deployment, serving  # noqa: F401 - the walk's fixtures
from tests.imapserver import ImapServer
from tests.mail.conftest import compose
from tests.mailsink import MailSink, ReceivedMail

ROSTER = """\
school,grade,class,pupil_name,tag_id,guardian_name,guardian_ref,services,email1,email2
みどり小学校,3,2,山田 花子,0A1B2C3D4E,山田 恵子,G1,ictag+broadcast,keiko@example.jp,
みどり小学校,2,1,鈴木 次郎,2B3C4D5E6F,鈴木 由美,G2,ictag+broadcast,,
"""


@pytest.fixture
def reading_mail(deployment: Deployment, imap_server: ImapServer) -> Deployment:
    """The deployment with a mailbox to read (asked for before ``serving``, which starts it)."""
    with deployment.config.open("a", encoding="utf-8") as config:
        config.write(
            f'[imap]\nhost = "127.0.0.1"\nport = {imap_server.port}\n'
            f'username = "{imap_server.user}"\npassword = "{imap_server.password}"\n'
        )
    deployment.env["MIMAMORI_SMTP__BOUNCE_DOMAIN"] = "bounce.city.example.jp"  # return paths to match bounces by
    return deployment


def _bounce_of(sent: ReceivedMail) -> bytes:
    """The receiving provider's report on ``sent``: the mailbox is gone."""
    recipient = sent.rcpt_tos[0]
    return (
        f"From: MAILER-DAEMON@mx.example.jp\r\nTo: {sent.mail_from}\r\nReturn-Path: <>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown\r\n\r\n--b--\r\n"
    ).encode()


async def _log_lines_of(log: Path, *wanted: str) -> list[str]:
    """The log's lines once every ``wanted`` text is in it (a deadline only against hanging)."""
    for _ in range(600):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        if all(any(text in line for line in lines) for text in wanted):
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"{wanted} not all in the log:\n" + log.read_text(encoding="utf-8", errors="replace"))


@pytest.mark.slow
async def test_serve_logs_what_its_mail_reader_did_and_names_nobody(
    reading_mail: Deployment, serving: subprocess.Popen, imap_server: ImapServer, mail_sink: MailSink, tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    reading_mail.mimamori("admin", "import-roster", "roster.csv", "--credentials-out", "credentials.csv")
    code = _registration_codes(tmp_path / "credentials.csv")["G2"]  # 由美さん has no address yet
    created = reading_mail.mimamori(
        "broadcast", "create", "--scope", "みどり小学校", "--category", "general", "--title", "連絡", "--body", "本文"
    )
    reading_mail.mimamori("broadcast", "confirm", created[0])
    [alert] = await asyncio.to_thread(lambda: (mail_sink.wait_for(1), mail_sink.received)[1])

    imap_server.deliver(compose("yumi@example.jp", "登録", f"登録コード {code}"))
    imap_server.deliver(_bounce_of(alert))
    imap_server.deliver(
        compose("keiko@example.jp", "不在通知", "ただいま不在です。", headers={"Auto-Submitted": "auto-replied"})
    )

    lines = await _log_lines_of(
        tmp_path / "serve.log", "mail.registration", "bounced: mailbox does not exist (550 5.1.1)", "mail.inbox"
    )
    reader_lines = [line for line in lines if " mail." in line]
    assert any("registered" in line for line in reader_lines), reader_lines
    assert any("automatic mail" in line and "ignored" in line for line in reader_lines), reader_lines
    for secret in ("yumi@example.jp", "keiko@example.jp", code, alert.mail_from, "example.jp"):
        assert not [line for line in lines if secret in line], secret


def _registration_codes(credentials: Path) -> dict[str, str]:
    with credentials.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))  # guardian ref, login ID, initial password, registration code
    return {row[0]: row[3] for row in rows[1:]}
