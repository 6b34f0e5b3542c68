"""The bot-related commands an administrator runs: staff link codes, the LINE quota in a preview."""

from __future__ import annotations

import asyncio

from core.addresses import add_verified_address
from core.models import Channel
from tests.cli.test_admin_commands import ENGLISH
from tests.factories import make_guardian
from tests.fakes.line_api import FakeLineApi


def test_a_staff_link_code_is_printed_on_the_last_line(cli) -> None:
    assert cli("admin", "add-site", "みどり小学校").returncode == 0
    assert cli("admin", "add-staff", "kato", "--role", "staff", "--site", "みどり小学校").returncode == 0

    issued = cli("admin", "staff-link-code", "kato")

    assert issued.returncode == 0, issued.stderr
    assert len(issued.lines[-1]) == 14 and f"連携 {issued.lines[-1]}" in issued.lines[0]
    missing = cli("admin", "staff-link-code", "nobody", env=ENGLISH)
    assert missing.stderr.strip() == "mimamori: There is no enabled staff account nobody."


async def test_a_broadcast_preview_says_how_many_line_messages_it_uses_and_leaves(cli, database_url) -> None:
    for n in range(3):
        guardian = await make_guardian(f"保護者 {n}")
        await add_verified_address(guardian.id, Channel.LINE, f"U{n}", limit=2)
    line = await FakeLineApi().start()
    line.monthly_limit, line.used = 200, 150
    try:
        result = await asyncio.to_thread(
            cli,
            "broadcast",
            "create",
            "--scope",
            "all",
            "--category",
            "closure",
            "--title",
            "休校",
            "--body",
            "明日は休校です。",
            env={
                "MIMAMORI_LINE__ACCESS_TOKEN": line.access_token,
                "MIMAMORI_LINE__API_BASE": line.url,
            },
        )
    finally:
        await line.stop()
    assert result.returncode == 0, result.stderr
    assert "LINEの今月の送信数: この連絡で 3 通、送信後の残り 47 通" in result.lines
