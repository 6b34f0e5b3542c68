"""``mimamori worker``: delivery workers alone, each with its scheduler (start several to scale out)."""

from __future__ import annotations

import asyncio

import click

from core.config import Settings
from core.event_loop import freeze_startup_objects
from core.readiness import persist_heartbeats
from mimamori.cli import N_, run, settings_of
from mimamori.delivery import check_signing, run_delivery, run_scheduler
from mimamori.inbound import run_inbound
from mimamori.lifecycle import stop_on_signals
from mimamori.metrics_endpoint import serve_metrics
from mimamori.runtime import opened
from mimamori.supervision import Supervisor


@click.command("worker", help=N_("Send queued notices until stopped (Ctrl-C or SIGTERM finishes what is in flight)."))
@click.option(
    "--inbound",
    is_flag=True,
    help=N_("Also read the [imap] mailbox (give it to one worker: registrations, bounces, alerts)."),
)
@click.pass_context
def command(ctx: click.Context, inbound: bool) -> None:
    settings = settings_of(ctx)
    check_signing(settings)
    run(_work(settings, inbound=inbound))


async def _work(settings: Settings, *, inbound: bool) -> None:
    stop = asyncio.Event()
    # signals first: a SIGTERM while the database opens (a systemd restart) still ends cleanly
    with stop_on_signals(stop.set):
        async with opened(settings):
            freeze_startup_objects()
            supervisor = Supervisor(stop)
            parts = [
                supervisor.keep("delivery", lambda: run_delivery(settings, stop)),
                supervisor.keep("scheduler", lambda: run_scheduler(settings, stop)),
                supervisor.keep("heartbeats", lambda: persist_heartbeats(stop)),
                supervisor.keep("metrics", lambda: serve_metrics(settings, stop)),
            ]
            if inbound:
                parts.append(supervisor.keep("mail reader", lambda: run_inbound(settings, stop)))
            await asyncio.gather(*parts)
    supervisor.check()
