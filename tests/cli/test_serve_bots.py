"""``mimamori serve`` with both bots configured: Telegram long polling or webhook, LINE webhook."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.fakes.line_api import FakeLineApi
from tests.fakes.telegram_api import FakeTelegramApi
from tests.net import free_port


async def _until(predicate, seconds: float = 60) -> None:
    for _ in range(int(seconds * 20)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


@asynccontextmanager
async def _serving(
    cli_env, tmp_path, telegram: FakeTelegramApi, line: FakeLineApi, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimamori",
        "serve",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **cli_env,
            "MIMAMORI_PORTAL__PORT": str(port),
            "MIMAMORI_TELEGRAM__TOKEN": telegram.token,
            "MIMAMORI_TELEGRAM__API_BASE": telegram.url,
            "MIMAMORI_LINE__ACCESS_TOKEN": line.access_token,
            "MIMAMORI_LINE__CHANNEL_SECRET": line.channel_secret,
            "MIMAMORI_LINE__API_BASE": line.url,
            **env,
        },
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def portal_up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await _until(portal_up)
            yield client
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await telegram.stop()
        await line.stop()
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr


async def test_serve_polls_telegram_and_answers_the_line_webhook(cli_env, tmp_path) -> None:
    telegram, line = await FakeTelegramApi().start(), await FakeLineApi().start()
    async with _serving(cli_env, tmp_path, telegram, line) as client:
        telegram.queue_update(telegram.text_update(5, "ヘルプ"))

        async def answered() -> bool:
            return bool(telegram.sent(chat="5"))

        await _until(answered)
        assert "登録コード" in telegram.sent(chat="5")[0].params["text"]

        body = line.webhook_body(line.text_event("U1", "ヘルプ"))
        response = await client.post("/hooks/line", content=body, headers={"X-Line-Signature": line.sign(body)})
        assert response.status_code == 200
        assert "登録コード" in line.replies()[0].body["messages"][0]["text"]
        assert (await client.post("/hooks/telegram", json={})).status_code == 404  # polling mode: no webhook


async def test_serve_in_webhook_mode_registers_the_telegram_webhook_with_its_secret(cli_env, tmp_path) -> None:
    telegram, line = await FakeTelegramApi().start(), await FakeLineApi().start()
    async with _serving(
        cli_env,
        tmp_path,
        telegram,
        line,
        MIMAMORI_TELEGRAM__MODE="webhook",
        MIMAMORI_TELEGRAM__WEBHOOK_SECRET="hook-secret",
        MIMAMORI_PORTAL__PUBLIC_URL="https://mimamori.city.example.jp",
    ) as client:

        async def registered() -> bool:
            return bool(telegram.sent("setWebhook"))

        await _until(registered)
        [webhook] = telegram.sent("setWebhook")
        assert webhook.params["url"] == "https://mimamori.city.example.jp/hooks/telegram"
        assert webhook.params["secret_token"] == "hook-secret"
        update = telegram.text_update(6, "help")
        assert (await client.post("/hooks/telegram", json=update)).status_code == 403
        response = await client.post(
            "/hooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}
        )
        assert response.status_code == 200
        assert "登録コード" in telegram.sent(chat="6")[0].params["text"]
    assert telegram.sent("getUpdates") == []
