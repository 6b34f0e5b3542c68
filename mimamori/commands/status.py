"""``mimamori status``: the outbox at a glance, with what failed or expired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from core import zones
from core.channels import spec
from core.delivery.summary import KIND_LABELS, STATUS_LABELS, Problem, QueueSummary, queue_summary
from core.i18n import Message, _
from core.i18n.dates import format_datetime
from core.models import Channel, DeliveryStatus
from core.readiness import Check, readiness
from mimamori.cli import N_, echo, language, pad, run, settings_of
from mimamori.runtime import opened

STATUSES = tuple(DeliveryStatus)
WIDTH = 10


@click.command(
    "status",
    help=N_(
        "Show readiness (as /readyz), deliveries by channel and status and by recipient group (sent, deferred, failed, waiting), and the recent failures and expiries."
    ),
    short_help=N_("Readiness, the queue and recent failures."),
)
@click.pass_context
def command(ctx: click.Context) -> None:
    settings = settings_of(ctx)

    async def _summary() -> tuple[list[Check], QueueSummary]:
        async with opened(settings):
            return await readiness(settings), await queue_summary()

    checks, summary = run(_summary())
    zone = zones.zone(settings.timezone)
    _show_readiness(checks)
    click.echo()
    _show_channels(summary)
    if summary.oldest_queued:
        echo(_("Oldest queued since %(when)s", when=_moment(summary.oldest_queued, zone)))
    if summary.lanes:
        click.echo()
        _show_lanes(summary, zone)
    if summary.problems:
        click.echo()
        echo(_("Failed or expired in the last 24 hours:"))
        for problem in summary.problems:
            click.echo(f"  {_problem(problem)}")


def _show_readiness(checks: list[Check]) -> None:
    failing = [c.label for c in checks if not c.ok]
    if failing:
        echo(_("Ready: no (%(parts)s)", parts=", ".join(p.translate(language()) for p in failing)))
    else:
        echo(_("Ready: yes"))
    for check in checks:
        mark = _("ok") if check.ok else _("NO")
        click.echo(f"  {_cell(check.label, 16)}{_cell(mark, 6)}{check.said.translate(language())}")


def _show_channels(summary: QueueSummary) -> None:
    heads = [_("Channel"), *(STATUS_LABELS[s] for s in STATUSES)]
    click.echo(_row(heads))
    for channel in sorted({channel for channel, _status in summary.counts}):
        counts = [str(summary.counts.get((channel, s), 0)) for s in STATUSES]
        click.echo(_row([_channel(channel), *counts]))


def _show_lanes(summary: QueueSummary, zone: ZoneInfo) -> None:
    heads = [_("Group"), _("Sent"), _("Deferred"), _("Failed"), _("Waiting")]
    click.echo(_row(heads, first=18) + "  " + _("Oldest waiting since").translate(language()))
    for lane in summary.lanes:
        since = _moment(lane.oldest_waiting, zone) if lane.oldest_waiting else "-"
        counts = [str(n) for n in (lane.sent, lane.deferred, lane.failed, lane.waiting)]
        click.echo(_row([lane.label(language()), *counts], first=18) + f"  {since}")


def _problem(problem: Problem) -> str:
    kind = KIND_LABELS.get(problem.kind)
    status = STATUS_LABELS.get(problem.status)
    words = [
        f"#{problem.delivery_id}",
        kind.translate(language()) if kind else problem.kind,
        _channel(problem.channel),
        status.translate(language()) if status else problem.status,
    ]
    # the error is the peer's or the transport's own words, kept as stored
    return " ".join(words) + f": {problem.error or '-'}"


def _channel(channel: str) -> str:
    try:
        return spec(Channel(channel)).label(language())
    except ValueError:
        return channel


def _row(cells: Sequence[Message | str], *, first: int = WIDTH) -> str:
    """The first cell left-justified, the others right-justified, as a table in a terminal."""
    texts = [c.translate(language()) if isinstance(c, Message) else c for c in cells]
    return pad(texts[0], first) + "".join(pad(t, WIDTH, right=True) for t in texts[1:])


def _cell(text: Message, width: int) -> str:
    return pad(text.translate(language()), width)


def _moment(at: datetime, zone: ZoneInfo) -> str:
    return format_datetime(at, language(), zone)
