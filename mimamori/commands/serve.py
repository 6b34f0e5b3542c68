"""``mimamori serve``: the central service."""

from __future__ import annotations

import asyncio

import click
import uvicorn

from core.config import Settings
from mimamori.cli import run, settings_of
from mimamori.delivery import run_delivery
from mimamori.inbound import run_inbound
from mimamori.lifecycle import PortalServer, stop_on_signals
from mimamori.runtime import opened
from portal.app import create_app


@click.command("serve")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Run the portal with delivery workers and the mailbox reader in the same process (a small
    town's set-up)."""
    run(serve(settings_of(ctx)))


async def serve(settings: Settings) -> None:
    async with opened(settings):
        config = uvicorn.Config(
            create_app(settings),
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
            workers = [
                asyncio.create_task(run_delivery(settings, stop), name="delivery"),
                asyncio.create_task(run_inbound(settings, stop), name="inbound"),
            ]
            try:
                await server.serve()
            finally:
                stop.set()
                await asyncio.gather(*workers)
