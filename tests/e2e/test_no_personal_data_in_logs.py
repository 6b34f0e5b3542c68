"""The deployed walk (roster import, a child at the gate, the guardian's mail, login, password and
photo, a failed login, an alert and its acknowledgement) with every process logging at DEBUG, as
JSON lines: no line names a pupil or guardian, a mail address, a tag, a token or a password."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.browser import Browser
from tests.e2e.test_walk import (  # noqa: F401 - the walk's fixtures
    NEW_PASSWORD,
    ROSTER,
    Deployment,
    _credentials,
    deployment,
    serving,
)
from tests.e2e.test_walk import (
    test_a_child_passes_the_gate_and_the_guardian_sees_the_photo as walk_to_the_photo,
)
from tests.mailsink import MailSink

_ACK = re.compile(r"https?://\S+/ack/[\w-]+")
_PHOTO = re.compile(r"/photos/([\w-]+)")


@pytest.fixture
def logging_at_debug(deployment: Deployment) -> Deployment:
    with deployment.config.open("a", encoding="utf-8") as config:
        config.write('[logging]\nlevel = "DEBUG"\nformat = "json"\n')
    return deployment


def _personal_values(tmp_path: Path, mails: MailSink) -> set[str]:
    values: set[str] = {NEW_PASSWORD}
    for row in list(csvrows(ROSTER))[1:]:
        school, _grade, _class, pupil, tag, guardian, _ref, _services, *emails = row
        values |= {pupil, guardian, tag, *pupil.split(), *guardian.split(), *(e for e in emails if e)}
    for login_id, password in _credentials(tmp_path / "credentials.csv").values():
        values |= {login_id, password}
    for mail in mails.received:
        values |= set(_PHOTO.findall(mail.text)) | {link.rsplit("/", 1)[1] for link in _ACK.findall(mail.text)}
    values |= set(re.findall(r'gate_key = "([^"]+)"', (tmp_path / "gate" / "gate.toml").read_text()))
    return {v for v in values if len(v) >= 2}


async def _ack_link(mails: MailSink) -> str:
    for _ in range(600):
        for mail in list(mails.received):
            if found := _ACK.search(mail.text):
                return found.group(0)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no alert with an acknowledgement link among {len(mails.received)} mails")


def csvrows(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text)))


async def test_a_whole_walk_logged_at_debug_names_nobody(
    logging_at_debug: Deployment,
    serving: subprocess.Popen,
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    await walk_to_the_photo(logging_at_debug, serving, mail_sink, tmp_path)
    async with httpx.AsyncClient(base_url=logging_at_debug.url) as client:
        someone = Browser(client)
        await someone.get("/login")
        # a guardian types the mail address and the tag number into the wrong fields
        refused = await someone.post("/login", {"login_id": "keiko@example.jp", "password": "0A1B2C3D4E"})
        assert refused.status_code == 401
    created = logging_at_debug.mimamori(
        "broadcast",
        "create",
        "--scope",
        "みどり小学校",
        "--category",
        "general",
        "--title",
        "下校時刻の変更",
        "--body",
        "本日は14時に下校します。",
        "--ack",
    )
    logging_at_debug.mimamori("broadcast", "confirm", created[0])
    ack = await _ack_link(mail_sink)
    async with httpx.AsyncClient() as client:
        assert (await client.get(ack)).status_code == 200

    log_lines = [
        line
        for name in ("serve.log", "gate.log")
        for line in (tmp_path / name).read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    serve_lines = (tmp_path / "serve.log").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in serve_lines if line.startswith("{")]
    assert any(e["logger"] == "mimamori.delivery" for e in events), "serve did not log as JSON lines"
    assert any("/photos/<token>" in line for line in log_lines), "the photo request was not logged"

    hits = sorted({value for value in _personal_values(tmp_path, mail_sink) for line in log_lines if value in line})
    assert hits == [], [line for line in log_lines if any(v in line for v in hits)][:10]
