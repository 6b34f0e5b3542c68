"""``mimamori worker``: delivery workers alone (start several to scale out)."""

from __future__ import annotations

import asyncio
import logging

import click

from core.config import Settings
from mimamori.cli import run, settings_of
from mimamori.delivery import run_delivery
from mimamori.lifecycle import stop_on_signals
from mimamori.runtime import opened


@click.command("worker")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Send queued notices until stopped (Ctrl-C or SIGTERM finishes what is in flight)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(_work(settings_of(ctx)))


async def _work(settings: Settings) -> None:
    async with opened(settings):
        stop = asyncio.Event()
        with stop_on_signals(stop.set):
            await run_delivery(settings, stop)
