"""An administrator sends an alert from the command line: create, confirm, follow, status."""

from __future__ import annotations

import signal
import subprocess
import sys

from core.models import Broadcast, Guardian, Language
from tests.cli.test_admin_commands import ENGLISH, JAPANESE
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language


async def test_an_alert_created_confirmed_and_followed_from_the_command_line(
    cli, cli_env, database_url, mail_sink, tmp_path
) -> None:
    school = await make_site("みどり小学校")
    other = await make_site("あおば小学校")
    await make_guardian(pupils=[await make_pupil(school)], emails=["a@example.jp"])
    await make_guardian(pupils=[await make_pupil(school, "佐藤 一郎")], emails=["b@docomo.ne.jp"])
    await make_guardian(pupils=[await make_pupil(other, "鈴木 次郎")], emails=["c@example.jp"])
    smtp = {
        "MIMAMORI_SMTP__HOST": "127.0.0.1",
        "MIMAMORI_SMTP__PORT": str(mail_sink.port),
        "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05",
    }

    created = cli(
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
        "--translation",
        "en",
        "A stranger near the school",
        "A stranger was seen near the school gate.",
        env=ENGLISH,
    )
    assert created.returncode == 0, created.stderr
    broadcast_id = created.lines[0]
    assert created.lines[1] == "Draft to みどり小学校: 2 guardians."
    assert created.lines[2] == "Addresses: mail 2"
    assert created.lines[3] == "Japanese: 2, the Japanese text"
    assert "Subject: 不審者情報" in created.stdout  # the title names its category: not 【不審者情報】不審者情報
    assert "校門付近で不審な人物が目撃されました。" in created.stdout
    assert f"mimamori broadcast confirm {broadcast_id}" in created.stdout
    assert (await Broadcast.get(id=int(broadcast_id))).translations == {
        "en": {"title": "A stranger near the school", "body": "A stranger was seen near the school gate."}
    }

    draft = cli("broadcast", "status", broadcast_id, env=ENGLISH)
    assert "(draft, Suspicious person)" in draft.stdout and "sent 0" in draft.stdout
    in_japanese = cli("broadcast", "status", broadcast_id, env=JAPANESE)
    assert in_japanese.lines[0].startswith(f"一斉連絡 {broadcast_id}（下書き、不審者情報）: 対象 0人。")  # none yet
    assert_one_language(in_japanese.stdout, Language.JA)
    assert mail_sink.per_recipient() == {}

    confirmed = cli("broadcast", "confirm", broadcast_id, env=ENGLISH)
    assert confirmed.returncode == 0, confirmed.stderr
    again = cli("broadcast", "confirm", broadcast_id, env=JAPANESE)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip() == f"mimamori: 一斉連絡 {broadcast_id} はもう下書きではありません（送信確定）。"

    worker = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "worker"],
        cwd=tmp_path,
        env={**cli_env, **smtp},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        mail_sink.wait_for(2)
        followed = cli("broadcast", "status", broadcast_id, "--wait", timeout=60, env=ENGLISH)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, worker_log = worker.communicate(timeout=30)
    assert worker.returncode == 0, worker_log
    assert set(mail_sink.per_recipient()) == {"a@example.jp", "b@docomo.ne.jp"}
    assert "sent 2" in followed.lines[-1] and "queued 0" in followed.lines[-1]
    assert "不審者情報" in mail_sink.to("a@example.jp")[0].message.get("Subject", "")

    summary = cli("status", env=ENGLISH)
    email_row = next(line.split() for line in summary.lines if line.startswith("mail "))
    assert email_row == ["mail", "0", "0", "2", "0", "0"]
    # and by recipient group (the channel's and the group's names): sent, deferred, failed, waiting, oldest waiting
    groups = {line[:18].strip(): line[18:].split() for line in summary.lines if line.startswith("mail ")}
    assert groups["mail docomo"] == groups["mail other domains"] == ["1", "0", "0", "0", "-"]


def test_a_broadcast_to_an_unknown_school_is_refused_in_one_line(cli, database_url) -> None:
    result = cli(
        "broadcast",
        "create",
        "--scope",
        "ないない小学校",
        "--category",
        "closure",
        "--title",
        "休校",
        "--body",
        "本日休校",
    )
    assert result.returncode == 1
    assert "ないない小学校" in result.stderr and "Traceback" not in result.stderr


async def test_a_scope_that_reaches_nobody_is_refused_with_the_reason(cli, database_url) -> None:
    """Before, 「みどり小学校:7」 made a draft to 0 guardians that could be confirmed and "sent"."""
    school = await make_site("みどり小学校")
    guardian = await make_guardian(pupils=[await make_pupil(school)], emails=["a@example.jp"])
    args = ("broadcast", "create", "--category", "closure", "--title", "休校", "--body", "本日休校")

    no_grade = cli(*args, "--scope", "みどり小学校:7", env=JAPANESE)
    assert no_grade.returncode == 1 and no_grade.stdout == ""
    assert no_grade.stderr.strip() == "mimamori: みどり小学校 7年には児童がいません。"
    in_english = cli(*args, "--scope", "みどり小学校:7", env=ENGLISH)
    assert in_english.stderr.strip() == "mimamori: There is no pupil in みどり小学校 grade 7."
    assert not await Broadcast.exists()

    created = cli(*args, "--scope", "みどり小学校:3", env=ENGLISH)
    assert created.returncode == 0, created.stderr
    await Guardian.filter(id=guardian.id).update(wants_broadcasts=False)  # the family left the service since
    refused = cli("broadcast", "confirm", created.lines[0], env=ENGLISH)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "mimamori: No guardian of a pupil in みどり小学校 grade 3 receives broadcasts."
