"""``mimamori status``: the outbox at a glance, with what failed or expired."""

from __future__ import annotations

import click

from core.delivery.summary import QueueSummary, queue_summary
from core.tokyo import TOKYO
from mimamori.cli import run, settings_of
from mimamori.runtime import opened

STATUSES = ("queued", "sending", "sent", "failed", "expired")


@click.command("status")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Show deliveries by channel and status, and the recent failures and expiries."""

    async def _summary() -> QueueSummary:
        async with opened(settings_of(ctx)):
            return await queue_summary()

    summary = run(_summary())
    channels = sorted({channel for channel, _ in summary.counts})
    click.echo(f"{'channel':<10}" + "".join(f"{s:>10}" for s in STATUSES))
    for channel in channels:
        click.echo(f"{channel:<10}" + "".join(f"{summary.counts.get((channel, s), 0):>10}" for s in STATUSES))
    if summary.oldest_queued:
        click.echo(f"oldest queued since {summary.oldest_queued.astimezone(TOKYO):%Y-%m-%d %H:%M:%S}")
    if summary.problems:
        click.echo("\nfailed or expired in the last 24 hours:")
        for p in summary.problems:
            click.echo(f"  #{p.delivery_id} {p.kind} {p.channel} {p.status}: {p.error or '-'}")
