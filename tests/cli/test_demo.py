"""``mimamori demo``: a newcomer's first command."""

import asyncio
import itertools
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.models import Language
from tests.conftest import REPO
from tests.fakes.telegram_api import FakeTelegramApi
from tests.net import free_port, wait_for_http
from tests.one_language import assert_one_language

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    pages: dict[str, httpx.Response]

    @property
    def logins(self) -> dict[str, str]:
        return _logins(self.stdout)


def _logins(welcome: str) -> dict[str, str]:
    """login -> password, read from the welcome table (its head names the login column)."""
    lines = welcome.splitlines()
    head = next(n for n, line in enumerate(lines) if "ログインID" in line or "Login ID" in line)
    rows = itertools.takewhile(str.strip, lines[head + 1 :])
    return {row.split()[-2]: row.split()[-1] for row in rows}


def _welcome(process: subprocess.Popen) -> str:
    """What the demo prints until it is ready (its last line says how to stop it)."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Ctrl-C" in line:
            break
    return "".join(lines)


def _staff_login(client: httpx.Client, password: str) -> httpx.Response:
    """Log in as the demo's staff with the printed password and the code the demo shows."""
    form = client.get("/staff/login")
    answer = client.post(
        "/staff/login", data={"login_id": "staff", "password": password, "csrf": _CSRF.search(form.text).group(1)}
    )
    assert answer.headers["location"].startswith("/staff/totp"), answer.text
    form = client.get(answer.headers["location"])
    codes = client.get("/demo/codes")
    code = re.search(r"<td>staff</td><td class=\"otp\">(\d{6})<", codes.text).group(1)
    return client.post("/staff/totp", data={"code": code, "csrf": _CSRF.search(form.text).group(1)})


def _notice_link(client: httpx.Client) -> str:
    """Open a passage notice in the demo mailbox, as the newcomer would; its photo link."""
    deadline = time.monotonic() + 60
    while True:
        mailbox = client.get("/demo/mailbox")
        found = re.search(r'<a href="(/demo/mailbox/\d+)">【見守り】[^<]*登校', mailbox.text)
        if found:
            break
        assert time.monotonic() < deadline, "no passage notice in the mailbox"
        time.sleep(0.5)
    mail = client.get(found.group(1))
    assert "小学校に登校しました" in mail.text
    return re.search(r'<a href="(http://[^"]+/photos/[^"]+)">', mail.text).group(1)


def _run_demo(tmp_path: Path, port: int) -> DemoRun:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}  # no locale: Japanese
    process = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "demo", "--port", str(port), "--data-dir", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pages: dict[str, httpx.Response] = {}
    welcome = ""
    try:
        welcome = _welcome(process)
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            pages["front"] = client.get("/")
            pages["codes"] = client.get("/demo/codes")
            link = _notice_link(client)
            pages["mailbox"] = client.get("/demo/mailbox")
            pages["mailbox reloading"] = client.get("/demo/mailbox?refresh=on")
            client.cookies.set("mimamori_lang", "en")
            pages["mailbox in English"] = client.get("/demo/mailbox")
            pages["codes in English"] = client.get("/demo/codes")
            client.cookies.clear()
            pages["photo link"] = client.get(link)
            pages["login"] = client.get(pages["photo link"].headers["location"])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as staff:
            pages["staff second factor"] = _staff_login(staff, _logins(welcome)["staff"])
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    return DemoRun(process.returncode, welcome + stdout, stderr, pages)


def test_the_demo_shows_a_city_at_work_and_stops_cleanly(tmp_path: Path) -> None:
    run = _run_demo(tmp_path, free_port())

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "見守りポータル" in run.pages["front"].text
    assert set(run.logins) >= {"staff", "support", "admin"} and len(run.logins) == 4
    assert all(len(password) == 14 for password in run.logins.values())
    assert "/demo/mailbox" in run.stdout and re.search(r"保護者へのお知らせは \S+@example.jp に届きます", run.stdout)
    assert "チャットボットは使っていません" in run.stdout
    assert "みどり小学校 正門" in run.stdout  # the passes, as they happen
    welcome = run.stdout[run.stdout.index("見守りデモ") :].split("Ctrl-C")[0]
    assert_one_language(
        welcome,
        Language.JA,
        names=[*run.logins, *run.logins.values(), "MIMAMORI_*", "telegram.token", "line.access_token"],
    )
    assert "デモを終了しました。" in run.stdout
    # The demo's own pages: in Japanese, or in the language the visitor chose; reloading only when asked.
    for name in ("mailbox", "codes"):
        assert_one_language(run.pages[name].text, Language.JA, names=["staff", "support", "admin"])
        assert 'http-equiv="refresh"' not in run.pages[name].text and "Refresh" not in run.pages[name].headers
        in_english = run.pages[f"{name} in English"].text
        subjects = re.findall(r'<a href="/demo/mailbox/\d+">([^<]+)</a>', in_english)  # the families' mails
        assert_one_language(in_english, Language.EN, names=subjects)
    assert "デモ用メールボックス" in run.pages["mailbox"].text
    assert "Demo mailbox" in run.pages["mailbox in English"].text
    assert run.pages["mailbox reloading"].headers["Refresh"] == "10"
    # The guardian's notice leads to the login, which then shows the photo.
    assert run.pages["photo link"].status_code == 303
    assert run.pages["photo link"].headers["location"].startswith("/login?next=/photos/")
    assert "ログインID" in run.pages["login"].text
    # The second factor: a current code for each staff account, which lets staff in (to choose
    # their own password first).
    assert len(re.findall(r'class="otp">\d{6}<', run.pages["codes"].text)) == 3
    assert run.pages["staff second factor"].headers["location"].startswith("/password")

    again = _run_demo(tmp_path, free_port())
    assert again.returncode == 0, again.stderr
    assert "admin" in again.stdout and run.logins["admin"] not in again.stdout  # a fresh start


async def test_the_demo_uses_a_telegram_bot_when_given_one(tmp_path: Path) -> None:
    telegram = await FakeTelegramApi().start()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "MIMAMORI_TELEGRAM__TOKEN": telegram.token,
        "MIMAMORI_TELEGRAM__API_BASE": telegram.url,
        "LANG": "en_US.UTF-8",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimamori",
        "demo",
        "--port",
        str(free_port()),
        "--data-dir",
        "demo",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    welcome = []
    try:
        async for line in process.stdout:
            welcome.append(line.decode())
            if "Ctrl-C" in welcome[-1]:
                break
        telegram.queue_update(telegram.text_update(5, "ヘルプ"))
        for _ in range(600):
            if telegram.sent(chat="5"):
                break
            await asyncio.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await telegram.stop()
    assert process.returncode == 0, stderr.decode()
    assert "Chat bot on: Telegram (polling)." in "".join(welcome)  # the terminal's locale is English
    assert "登録コード" in telegram.sent(chat="5")[0].params["text"]
