"""An administrator sends an alert from the command line: create, confirm, follow, status."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.factories import make_guardian, make_pupil, make_site


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
    )
    assert created.returncode == 0, created.stderr
    broadcast_id = created.lines[0]
    assert "2 guardian(s)" in created.stdout and "email 2" in created.stdout
    assert "校門付近で不審な人物が目撃されました。" in created.stdout
    assert f"mimamori broadcast confirm {broadcast_id}" in created.stdout

    draft = cli("broadcast", "status", broadcast_id)
    assert "(draft)" in draft.stdout and "sent 0" in draft.stdout
    assert mail_sink.per_recipient() == {}

    confirmed = cli("broadcast", "confirm", broadcast_id)
    assert confirmed.returncode == 0, confirmed.stderr
    again = cli("broadcast", "confirm", broadcast_id)
    assert again.returncode == 1 and "Traceback" not in again.stderr and again.stderr.strip()

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
        followed = cli("broadcast", "status", broadcast_id, "--wait", timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, worker_log = worker.communicate(timeout=30)
    assert worker.returncode == 0, worker_log
    assert set(mail_sink.per_recipient()) == {"a@example.jp", "b@docomo.ne.jp"}
    assert "sent 2" in followed.lines[-1] and "queued 0" in followed.lines[-1]
    assert "不審者情報" in mail_sink.to("a@example.jp")[0].message.get("Subject", "")

    summary = cli("status")
    email_row = next(line.split() for line in summary.lines if line.startswith("email"))
    assert email_row == ["email", "0", "0", "2", "0", "0"]
    # and by recipient group: sent, deferred, failed, waiting, oldest waiting
    groups = {line.split()[0]: line.split()[1:] for line in summary.lines if line.startswith("email/")}
    assert groups["email/docomo"] == groups["email/other"] == ["1", "0", "0", "0", "-"]


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
