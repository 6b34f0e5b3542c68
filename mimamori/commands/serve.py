"""``mimamori serve``: the central service."""

from __future__ import annotations

import asyncio

import click
import uvicorn

from core.config import Settings
from mimamori.bots import ChatBots
from mimamori.cli import run, settings_of
from mimamori.delivery import run_delivery
from mimamori.lifecycle import PortalServer, stop_on_signals
from mimamori.runtime import opened
from portal.app import create_app


@click.command("serve")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Run the portal with delivery workers in the same process (a small town's set-up)."""
    run(serve(settings_of(ctx)))


async def serve(settings: Settings) -> None:
    async with opened(settings):
        bots = ChatBots(settings)
        app = create_app(settings, extra_routers=bots.routers)
        app.state.line_quota = bots.line_quota  # None without LINE
        config = uvicorn.Config(
            app,
            host=settings.portal.host,
            port=settings.portal.port,
            log_level="info",
            proxy_headers=settings.portal.behind_proxy,
        )
        server = PortalServer(config)
        stop = asyncio.Event()

        def _stop() -> None:
            server.should_exit = True
            stop.set()

        with stop_on_signals(_stop):
            worker = asyncio.create_task(run_delivery(settings, stop), name="delivery")
            chat = asyncio.create_task(bots.run(stop), name="bots")
            try:
                await server.serve()
            finally:
                stop.set()
                await worker
                await chat
