"""``mimamori serve``: the central service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import click
import uvicorn
from fastapi import APIRouter

from core.config import Settings
from core.event_loop import freeze_startup_objects
from core.readiness import persist_heartbeats
from mimamori.bots import ChatBots
from mimamori.cli import N_, run, settings_of
from mimamori.delivery import check_signing, run_delivery, run_scheduler
from mimamori.inbound import run_inbound
from mimamori.lifecycle import PortalServer, stop_on_signals
from mimamori.listening import check_listening
from mimamori.metrics_endpoint import serve_metrics
from mimamori.runtime import opened
from mimamori.supervision import Supervisor
from mimamori.tls import portal_context
from portal.app import create_app


@click.command(
    "serve",
    help=N_(
        "Run the portal with delivery workers, the chat bots and the mailbox reader in the same process (a small town's set-up)."
    ),
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    default=None,
    help=N_("A TLS proxy is in front: listen without TLS and trust its X-Forwarded-* headers."),
)
@click.pass_context
def command(ctx: click.Context, behind_proxy: bool | None) -> None:
    settings = settings_of(ctx)
    if behind_proxy:
        settings = settings.model_copy(update={"portal": settings.portal.model_copy(update={"behind_proxy": True})})
    check_listening(settings.portal)
    check_signing(settings)
    run(serve(settings))


async def serve(
    settings: Settings,
    *,
    extra_routers: Sequence[APIRouter] = (),
    stop: asyncio.Event | None = None,
    log_level: str = "info",
) -> None:
    """Until Ctrl-C, SIGTERM or ``stop``; ``extra_routers`` are mounted after the bots' webhooks."""
    portal = settings.portal
    async with opened(settings):
        bots = ChatBots(settings)
        app = create_app(settings, extra_routers=[*bots.routers, *extra_routers])
        app.state.line_quota = bots.line_quota  # None without LINE
        config = uvicorn.Config(
            app,
            host=portal.host,
            port=portal.port,
            log_level=log_level,
            log_config=None,  # its lines go through core.logs like every other (JSON, masked)
            proxy_headers=portal.behind_proxy,
            ssl_certfile=str(portal.tls_cert) if portal.tls_cert else None,
            ssl_keyfile=str(portal.tls_key) if portal.tls_key else None,
            ssl_context_factory=portal_context if portal.tls_cert else None,
        )
        server = PortalServer(config)
        freeze_startup_objects()
        stop = stop or asyncio.Event()
        supervisor = Supervisor(stop)
        with stop_on_signals(stop.set):
            watcher = asyncio.create_task(_exit_when_set(stop, server))
            parts = [
                asyncio.create_task(supervisor.keep("delivery", lambda: run_delivery(settings, stop)), name="delivery"),
                asyncio.create_task(
                    supervisor.keep("scheduler", lambda: run_scheduler(settings, stop)), name="scheduler"
                ),
                asyncio.create_task(supervisor.keep("chat bots", lambda: bots.run(stop)), name="bots"),
                asyncio.create_task(
                    supervisor.keep("mail reader", lambda: run_inbound(settings, stop)), name="inbound"
                ),
                asyncio.create_task(supervisor.keep("heartbeats", lambda: persist_heartbeats(stop)), name="heartbeats"),
                asyncio.create_task(supervisor.keep("metrics", lambda: serve_metrics(settings, stop)), name="metrics"),
            ]
            try:
                await server.serve()
            finally:
                stop.set()
                await asyncio.gather(watcher, *parts)
                await bots.close()
        supervisor.check()


async def _exit_when_set(stop: asyncio.Event, server: PortalServer) -> None:
    await stop.wait()
    server.should_exit = True
