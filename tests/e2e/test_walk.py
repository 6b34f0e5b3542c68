"""The whole system as deployed: ``mimamori serve`` and ``mimamori gate`` as separate processes with
their config files, a real SMTP server, a pty as the reader and a video file as the camera. A child
passes the gate; the guardian reads the mail, follows its link, logs in with the imported
credentials, chooses a password and sees the photo. Then staff send an alert to one school.
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from gates.protocols.em4100_ascii import frame
from gates.simulator import ReaderPort, make_video, scene
from tests.browser import Browser
from tests.conftest import NO_ATTENDANCE_CHECKS, REPO
from tests.mailsink import MailSink, ReceivedMail
from tests.net import free_port, wait_for_http

ROSTER = """\
school,grade,class,pupil_name,tag_id,guardian_name,guardian_ref,services,email1,email2
みどり小学校,3,2,山田 花子,0A1B2C3D4E,山田 恵子,G1,ictag+broadcast,keiko@example.jp,
みどり小学校,5,1,佐藤 一郎,1F2E3D4C5B,佐藤 直樹,G2,ictag+broadcast,naoki@example.jp,naoki.mobile@example.jp
あおば小学校,2,1,鈴木 次郎,2B3C4D5E6F,鈴木 由美,G3,ictag+broadcast,yumi@example.jp,
"""
NEW_PASSWORD = "hanako-no-ranndoseru-7"
_LINK = re.compile(r"https?://\S+/photos/\S+")


@dataclass
class Deployment:
    directory: Path
    config: Path
    env: dict[str, str]
    url: str

    def mimamori(self, *args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "mimamori", "--config", str(self.config), *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    def start(self, *args: str, log: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "mimamori", *args],
            cwd=self.directory,
            env=self.env,
            stdout=(self.directory / log).open("wb"),
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture
def deployment(empty_database_url: str, keyring_path: Path, tmp_path: Path, mail_sink: MailSink) -> Deployment:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = tmp_path / "mimamori.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "var"}"\n'
        f'database_url = "{empty_database_url}"\n'
        f'keyring = "{keyring_path}"\n'
        f'[portal]\nport = {port}\npublic_url = "{url}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {mail_sink.port}\nfrom_address = "mimamori@city.example.jp"\n'
        f"[delivery]\npoll_seconds = 0.05\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")} | NO_ATTENDANCE_CHECKS
    env["PYTHONPATH"] = str(REPO)
    return Deployment(tmp_path, config, env, url)


@pytest.fixture
def serving(deployment: Deployment) -> Iterator[subprocess.Popen]:
    process = deployment.start("--config", str(deployment.config), "serve", log="serve.log")
    try:
        wait_for_http(f"{deployment.url}/healthz", timeout=60)
        yield process
    finally:
        assert _stop(process) == 0, (deployment.directory / "serve.log").read_text()


def _gate_config(deployment: Deployment, reader: ReaderPort, key: str) -> Path:
    frames = int(2.0 * 25)
    video = make_video(deployment.directory / "camera.avi", seconds=2.0, sharp_frames=set(range(frames)))
    path = deployment.directory / "gate" / "gate.toml"
    path.parent.mkdir()
    path.write_text(
        f'reader_name = "正門"\n'
        f'[serial]\nport = "{reader.path}"\nprotocol = "em4100-ascii"\nquiet_seconds = 30\n'
        f'[camera]\nsource = "{video}"\n'
        f'[server]\nurl = "{deployment.url}"\ngate_key = "{key}"\nretry_max_seconds = 1\ntimeout = 10\n'
        f'[spool]\npath = "gate-spool.db"\n',
        encoding="utf-8",
    )
    return path


def _credentials(path: Path) -> dict[str, tuple[str, str]]:
    """Guardian ref -> (login ID, initial password): the file's first columns, whose heads are in the
    language of the terminal that ran the import."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    return {row[0]: (row[1], row[2]) for row in rows[1:]}


async def _mail_after_passing(sink: MailSink, reader: ReaderPort, tag: str, to: str) -> ReceivedMail:
    """The child lingers at the gate, so the tag is read until the gate (starting up) has its port
    open: the reads make one passage, and its notice reaches the guardian."""
    deadline = time.monotonic() + 90
    while not sink.to(to):
        assert time.monotonic() < deadline, "no notice arrived"
        reader.write(frame(tag))
        await asyncio.sleep(0.2)
    return sink.to(to)[0]


async def test_a_child_passes_the_gate_and_the_guardian_sees_the_photo(
    deployment: Deployment, serving: subprocess.Popen, mail_sink: MailSink, tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    deployment.mimamori("admin", "import-roster", "roster.csv", "--credentials-out", "credentials.csv")
    login_id, initial_password = _credentials(tmp_path / "credentials.csv")["G1"]
    gate_key = deployment.mimamori("admin", "add-gate", "みどり小学校", "正門")[-1]

    reader = ReaderPort(tmp_path)
    gate = deployment.start("gate", "--config", str(_gate_config(deployment, reader, gate_key)), log="gate.log")
    try:
        notice = await _mail_after_passing(mail_sink, reader, "0A1B2C3D4E", "keiko@example.jp")
    finally:
        assert await asyncio.to_thread(_stop, gate) == 0, (tmp_path / "gate.log").read_text()
        reader.close()

    assert re.search("花子さん (登校|下校)", notice.message["Subject"])  # 下校 after the school's cut-off
    assert "花子さんが" in notice.text and "みどり小学校" in notice.text
    link = _LINK.search(notice.text).group(0)
    assert link.startswith(deployment.url)

    async with httpx.AsyncClient(base_url=deployment.url) as client:
        guardian = Browser(client)
        answer = await guardian.get(link)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        form = await guardian.get(answer.headers["location"])
        assert "ログイン" in form.text
        answer = await guardian.post(
            "/login", {"login_id": login_id, "password": initial_password, "next": link.removeprefix(deployment.url)}
        )
        assert answer.status_code == 303 and answer.headers["location"].startswith("/password")
        form = await guardian.get(answer.headers["location"])
        assert "初回ログインのため、パスワードを変更してください。" in form.text
        next_page = re.search(r'action="/password".*?name="next" value="([^"]*)"', form.text, re.S).group(1)
        answer = await guardian.post(
            "/password", {"current": initial_password, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD, "next": next_page}
        )
        assert answer.status_code == 303 and answer.headers["location"] == link.removeprefix(deployment.url)
        photo_page = await guardian.get(answer.headers["location"])
        assert photo_page.status_code == 200 and "山田 花子" in photo_page.text
        image_url = re.search(r'<img class="photo" src="([^"]+)"', photo_page.text).group(1)
        image = await guardian.get(image_url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    still = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    assert still.shape == scene().shape
    assert np.abs(still.astype(int) - scene().astype(int)).mean() < 8  # the camera's frame, not another

    # The old password is gone, the new one works.
    async with httpx.AsyncClient(base_url=deployment.url) as client:
        again = Browser(client)
        await again.get("/login")
        assert (await again.post("/login", {"login_id": login_id, "password": initial_password})).status_code == 401
        assert (await again.post("/login", {"login_id": login_id, "password": NEW_PASSWORD})).status_code == 303


async def test_an_alert_to_one_school_reaches_every_address_there_and_no_other(
    deployment: Deployment, serving: subprocess.Popen, mail_sink: MailSink, tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    deployment.mimamori("admin", "import-roster", "roster.csv", "--credentials-out", "credentials.csv")

    created = deployment.mimamori(
        "broadcast",
        "create",
        "--scope",
        "みどり小学校",
        "--category",
        "suspicious_person",
        "--title",
        "不審者情報",
        "--body",
        "校門付近で不審な人物が目撃されました。",
    )
    deployment.mimamori("broadcast", "confirm", created[0])
    await asyncio.to_thread(mail_sink.wait_for, 3)
    status = await asyncio.to_thread(deployment.mimamori, "broadcast", "status", created[0], "--wait")

    assert mail_sink.per_recipient() == {"keiko@example.jp": 1, "naoki@example.jp": 1, "naoki.mobile@example.jp": 1}
    for mail in mail_sink.received:
        assert "不審者情報" in mail.message["Subject"]
        assert "校門付近で不審な人物が目撃されました。" in mail.text
    assert "送信済み 3" in status[-1]  # the terminal names no language: Japanese
    assert httpx.get(f"{deployment.url}/demo/mailbox").status_code == 404  # the demo's mailbox only in the demo
