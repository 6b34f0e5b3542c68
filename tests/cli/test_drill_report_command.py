"""An administrator prints a drill's report per school from the command line."""

from __future__ import annotations

from tests.cli.test_admin_commands import ENGLISH, JAPANESE
from tests.drills import drill_run


async def test_the_drill_report_on_the_command_line(cli, settings) -> None:
    run = await drill_run(settings)

    shown = cli("broadcast", "drill-report", str(run.broadcast.id), env=JAPANESE)

    assert shown.returncode == 0, shown.stderr
    midori = shown.lines[shown.lines.index("みどり小学校") :]
    assert midori[1:11] == [
        "  送信確定: 2026-10-01 10:00:00",
        "  児童 4人、家庭 7、届いた家庭 4",
        "  最初の家庭に届くまで: 1分00秒",
        "  最後の家庭に届くまで: 10分00秒",
        "  半数の家庭に届くまで（中央値）: 2分30秒",
        "  9割の家庭に届くまで（90パーセンタイル）: 10分00秒",
        "  5分後の回答: 1/4",
        "  10分後の回答: 2/4",
        "  30分後の回答: 3/4",
        "  60分後の回答: 3/4",
    ]
    assert midori[11] == "  連絡がつかない家庭: 2（アドレスなし、または配信停止: 1、すべての配信が失敗: 1）"
    english = cli("broadcast", "drill-report", str(run.broadcast.id), env=ENGLISH)
    assert "  Nine in ten families reached within (90th percentile): 10 min 00 s" in english.lines
