"""``mimamori broadcast``: the same two-step API as the portal, for administrators and scripts."""

from __future__ import annotations

import asyncio
import sys

import click

from bot.line.adapter import quota_now
from core import broadcasts
from core.config import Settings
from core.models import BroadcastCategory, Channel
from mimamori.cli import run, settings_of
from mimamori.runtime import cli_actor, opened


@click.group("broadcast")
def command() -> None:
    """Alerts to every guardian in scope: create (a draft), confirm, follow."""


@command.command("create")
@click.option("--scope", required=True, help="all, or SITE, SITE:GRADE, SITE:GRADE-CLASS (comma-separated).")
@click.option("--category", required=True, type=click.Choice([c.value for c in BroadcastCategory]))
@click.option("--title", required=True)
@click.option("--body", required=True)
@click.option("--ack", is_flag=True, help="Ask guardians to acknowledge (escalated if they do not).")
@click.pass_context
def create(ctx: click.Context, scope: str, category: str, title: str, body: str, ack: bool) -> None:
    """Create a draft; prints its id alone on the first line, then the preview."""
    settings = settings_of(ctx)

    async def _create() -> broadcasts.BroadcastPreview:
        async with opened(settings):
            draft = await broadcasts.create_draft(
                author=None,
                scope=await broadcasts.parse_scope(scope),
                category=BroadcastCategory(category),
                title=title,
                body=body,
                ack_requested=ack,
                actor=cli_actor(),
            )
            quota = await quota_now(settings.line) if settings.line.access_token is not None else None
            return await broadcasts.preview(draft.id, settings, line_quota=quota)

    preview = run(_create())
    click.echo(preview.broadcast.id)
    click.echo(
        f"draft to {preview.scope_label}: {preview.recipients} guardian(s), "
        + ", ".join(f"{c.value} {n}" for c, n in sorted(preview.addresses_by_channel.items()))
    )
    if preview.line_quota is not None and preview.line_messages:
        left = preview.line_remaining_after
        click.echo(
            f"LINE: uses {preview.line_messages} message(s) of the monthly quota"
            + (f", {left} left this month afterwards" if left is not None else " (no monthly limit)")
        )
    sample = preview.samples[Channel.EMAIL]
    click.echo(f"\nSubject: {sample.subject}\n\n{sample.text}\n")
    click.echo(f"Nothing is sent until: mimamori broadcast confirm {preview.broadcast.id}")


@command.command("confirm")
@click.argument("broadcast_id", type=int)
@click.pass_context
def confirm(ctx: click.Context, broadcast_id: int) -> None:
    """Confirm a draft: the delivery workers fan it out and send it."""

    async def _confirm() -> None:
        async with opened(settings_of(ctx)):
            await broadcasts.confirm(broadcast_id, by=None, actor=cli_actor())

    run(_confirm())
    click.echo(f"broadcast {broadcast_id} confirmed; follow it with: mimamori broadcast status {broadcast_id} --wait")


@command.command("status")
@click.argument("broadcast_id", type=int)
@click.option("--wait", is_flag=True, help="Show a progress bar until nothing is queued.")
@click.pass_context
def status(ctx: click.Context, broadcast_id: int, wait: bool) -> None:
    """Counts: queued, sent, failed, expired, acknowledged; and who was not reached."""
    counts = run(_follow(settings_of(ctx), broadcast_id, wait))
    click.echo(
        f"broadcast {broadcast_id} ({counts.broadcast.status.value}): {counts.recipients} guardian(s); "
        f"queued {counts.queued}, sending {counts.sending}, sent {counts.sent}, failed {counts.failed}, "
        f"expired {counts.expired}, acknowledged {counts.acknowledged}"
    )
    if counts.not_reached_total:
        click.echo(f"not reached: {counts.not_reached_total}")
        for n in counts.not_reached:
            click.echo(f"  {n.login_id}: {'; '.join(n.reasons)}")


async def _follow(settings: Settings, broadcast_id: int, wait: bool) -> broadcasts.BroadcastCounts:
    async with opened(settings):
        counts = await broadcasts.status(broadcast_id)
        if not wait:
            return counts
        err = sys.stderr
        with click.progressbar(length=1, label="delivering", file=err, show_pos=True) as bar:
            while True:
                counts = await broadcasts.status(broadcast_id, not_reached_limit=0)
                total = counts.queued + counts.sending + counts.sent + counts.failed + counts.expired
                bar.length = max(total, 1)
                bar.update(total - counts.pending - bar.pos)
                if not counts.fanning_out and counts.pending == 0:
                    break
                await asyncio.sleep(0.5)
        return await broadcasts.status(broadcast_id)
