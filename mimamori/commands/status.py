"""``mimamori status``: the outbox at a glance, with what failed or expired."""

from __future__ import annotations

import click

from core import zones
from core.delivery.summary import QueueSummary, queue_summary
from core.models import DeliveryStatus
from core.readiness import Check, readiness
from mimamori.cli import run, settings_of
from mimamori.runtime import opened

STATUSES = tuple(DeliveryStatus)


@click.command("status")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Show readiness (as /readyz), deliveries by channel and status and by recipient group (sent,
    deferred, failed, waiting), and the recent failures and expiries."""

    settings = settings_of(ctx)

    async def _summary() -> tuple[list[Check], QueueSummary]:
        async with opened(settings):
            return await readiness(settings), await queue_summary()

    checks, summary = run(_summary())
    failing = [c.part for c in checks if not c.ok]
    click.echo("ready: yes" if not failing else f"ready: NO ({', '.join(failing)})")
    for check in checks:
        click.echo(f"  {check.part:<16}{'ok' if check.ok else 'NO':<4}{check.detail}")
    click.echo()
    channels = sorted({channel for channel, _ in summary.counts})
    click.echo(f"{'channel':<10}" + "".join(f"{s:>10}" for s in STATUSES))
    for channel in channels:
        click.echo(f"{channel:<10}" + "".join(f"{summary.counts.get((channel, s), 0):>10}" for s in STATUSES))
    zone = zones.zone(settings.timezone)
    if summary.oldest_queued:
        click.echo(f"oldest queued since {summary.oldest_queued.astimezone(zone):%Y-%m-%d %H:%M:%S}")
    if summary.lanes:
        click.echo(f"\n{'group':<18}{'sent':>10}{'deferred':>10}{'failed':>10}{'waiting':>10}  oldest waiting since")
        for lane in summary.lanes:
            since = f"{lane.oldest_waiting.astimezone(zone):%Y-%m-%d %H:%M:%S}" if lane.oldest_waiting else "-"
            name = f"{lane.channel}/{lane.lane or '-'}"
            click.echo(f"{name:<18}{lane.sent:>10}{lane.deferred:>10}{lane.failed:>10}{lane.waiting:>10}  {since}")
    if summary.problems:
        click.echo("\nfailed or expired in the last 24 hours:")
        for p in summary.problems:
            click.echo(f"  #{p.delivery_id} {p.kind} {p.channel} {p.status}: {p.error or '-'}")
