"""``mimamori broadcast``: the same two-step API as the portal, for administrators and scripts."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta

import click

from bot.line.adapter import quota_now
from core import broadcasts, categories, zones
from core.broadcasts import drill_report as reports
from core.broadcasts.drill_report import DrillReport, SchoolReport
from core.broadcasts.reasons import ShownReason
from core.channels import spec
from core.config import Settings
from core.i18n import Message, _, _n
from core.i18n.languages import ORIGINAL, language_or_default
from core.i18n.messages import language_name, listing
from core.models import BroadcastCategory, Channel, Language
from mimamori.cli import N_, echo, language, run, settings_of
from mimamori.runtime import cli_actor, opened


@click.group("broadcast", help=N_("Alerts to every guardian in scope: create (a draft), confirm, follow."))
def command() -> None:
    pass


@command.command("create", help=N_("Create a draft; prints its id alone on the first line, then the preview."))
@click.option("--scope", required=True, help=N_("all, or SITE, SITE:GRADE, SITE:GRADE-CLASS (comma-separated)."))
@click.option("--category", required=True, type=click.Choice([c.value for c in BroadcastCategory]))
@click.option("--title", required=True, help=N_("In Japanese."))
@click.option("--body", required=True, help=N_("In Japanese."))
@click.option(
    "--translation",
    "translations",
    type=(str, str, str),
    multiple=True,
    metavar="LANGUAGE TITLE BODY",
    help=N_("A translation (en, ja-x-easy, zh-Hans, pt-BR, vi, fil); repeat for more languages."),
)
@click.option("--ack", is_flag=True, help=N_("Ask guardians to acknowledge (escalated if they do not)."))
@click.pass_context
def create(
    ctx: click.Context,
    scope: str,
    category: str,
    title: str,
    body: str,
    translations: tuple[tuple[str, str, str], ...],
    ack: bool,
) -> None:
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
                translated={_translated_language(code): (t, b) for code, t, b in translations},
                actor=cli_actor(),
            )
            quota = await quota_now(settings.line) if settings.line.access_token is not None else None
            return await broadcasts.preview(draft.id, settings, line_quota=quota)

    preview = run(_create())
    click.echo(preview.broadcast.id)
    _show_preview(preview)


def _translated_language(code: str) -> Language:
    chosen = language_or_default(code)
    if chosen.value != code:
        raise click.BadParameter(
            _("%(code)s is not a language Mimamori speaks.", code=code).translate(language()),
            param_hint="--translation",
        )
    return chosen


def _show_preview(preview: broadcasts.BroadcastPreview) -> None:
    echo(
        _n(
            "Draft to %(scope)s: %(num)d guardian.",
            "Draft to %(scope)s: %(num)d guardians.",
            preview.recipients,
            scope=preview.scope_label,
        )
    )
    by_channel = sorted(preview.addresses_by_channel.items())
    echo(_("Addresses: %(channels)s", channels=listing(_channel_count(c, n) for c, n in by_channel)))
    for share in preview.languages:
        if share.guardians:
            echo(_language_line(share))
    if preview.line_quota is not None and preview.line_messages:
        left = preview.line_remaining_after
        if left is None:
            echo(_("LINE: this alert uses %(used)d messages (no monthly limit).", used=preview.line_messages))
        else:
            echo(
                _(
                    "LINE this month: this alert uses %(used)d messages, %(left)d left after it.",
                    used=preview.line_messages,
                    left=left,
                )
            )
    sample = preview.samples[Channel.EMAIL]
    echo(_("Subject: %(subject)s", subject=sample.subject))
    click.echo(f"\n{sample.text}\n")
    command_line = f"mimamori broadcast confirm {preview.broadcast.id}"
    echo(_("Nothing is sent until: %(command)s", command=command_line))


def _channel_count(channel: Channel, count: int) -> Message:
    return _("%(channel)s %(num)d", channel=spec(channel).name, num=count)


def _language_line(share: broadcasts.LanguageShare) -> Message:
    name = language_name(share.language)
    if share.language is ORIGINAL:
        return _("%(language)s: %(num)d, the Japanese text", language=name, num=share.guardians)
    if share.translated:
        return _("%(language)s: %(num)d, your translation", language=name, num=share.guardians)
    return _(
        "%(language)s: %(num)d, the Japanese text after a sentence in their language",
        language=name,
        num=share.guardians,
    )


@command.command("confirm", help=N_("Confirm a draft: the delivery workers fan it out and send it."))
@click.argument("broadcast_id", type=int)
@click.pass_context
def confirm(ctx: click.Context, broadcast_id: int) -> None:
    async def _confirm() -> None:
        async with opened(settings_of(ctx)):
            await broadcasts.confirm(broadcast_id, by=None, actor=cli_actor())

    run(_confirm())
    follow = f"mimamori broadcast status {broadcast_id} --wait"
    echo(_("Broadcast %(id)d confirmed; follow it with: %(command)s", id=broadcast_id, command=follow))


@command.command("status", help=N_("Counts: queued, sent, failed, expired, acknowledged; and who was not reached."))
@click.argument("broadcast_id", type=int)
@click.option("--wait", is_flag=True, help=N_("Show a progress bar until nothing is queued."))
@click.pass_context
def status(ctx: click.Context, broadcast_id: int, wait: bool) -> None:
    counts = run(_follow(settings_of(ctx), broadcast_id, wait))
    echo(
        _n(
            "Broadcast %(id)d (%(status)s, %(category)s): %(num)d guardian; queued %(queued)d, sending "
            "%(sending)d, sent %(sent)d, failed %(failed)d, expired %(expired)d, acknowledged %(acknowledged)d",
            "Broadcast %(id)d (%(status)s, %(category)s): %(num)d guardians; queued %(queued)d, sending "
            "%(sending)d, sent %(sent)d, failed %(failed)d, expired %(expired)d, acknowledged %(acknowledged)d",
            counts.recipients,
            id=broadcast_id,
            status=broadcasts.STATUS_LABELS[counts.broadcast.status],
            category=categories.label(counts.broadcast.category),
            queued=counts.queued,
            sending=counts.sending,
            sent=counts.sent,
            failed=counts.failed,
            expired=counts.expired,
            acknowledged=counts.acknowledged,
        )
    )
    if counts.not_reached_total:
        echo(_("Not reached: %(num)d", num=counts.not_reached_total))
        for n in counts.not_reached:
            click.echo(f"  {n.login_id}: " + "; ".join(_shown(reason) for reason in n.shown_reasons))
    if counts.unacknowledged_total:
        echo(_("Reached, not acknowledged yet: %(num)d", num=counts.unacknowledged_total))


def _shown(reason: ShownReason) -> str:
    return reason if isinstance(reason, str) else reason.translate(language())


async def _follow(settings: Settings, broadcast_id: int, wait: bool) -> broadcasts.BroadcastCounts:
    async with opened(settings):
        counts = await broadcasts.status(broadcast_id)
        if not wait:
            return counts
        err = sys.stderr
        with click.progressbar(length=1, label=_("delivering").translate(language()), file=err, show_pos=True) as bar:
            while True:
                counts = await broadcasts.status(broadcast_id, not_reached_limit=0)
                total = counts.queued + counts.sending + counts.sent + counts.failed + counts.expired
                bar.length = max(total, 1)
                bar.update(total - counts.pending - bar.pos)
                if not counts.fanning_out and counts.pending == 0:
                    break
                await asyncio.sleep(0.5)
        return await broadcasts.status(broadcast_id)


@command.command(
    "drill-report", help=N_("A drill's report per school: time to reach families, answer rates, who was not reached.")
)
@click.argument("broadcast_id", type=int)
@click.pass_context
def drill_report(ctx: click.Context, broadcast_id: int) -> None:
    settings = settings_of(ctx)

    async def _report() -> DrillReport:
        async with opened(settings):
            return await reports.drill_report(broadcast_id)

    report = run(_report())
    if report.broadcast.confirmed_at is None:
        echo(_("This broadcast has not been sent yet."))
        return
    for school in report.schools:
        _show_school(school, report.broadcast.confirmed_at)


def _show_school(s: SchoolReport, confirmed: datetime) -> None:
    zone = zones.of(s.school)
    click.echo(s.school.name)
    moment = confirmed.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    echo(_("Confirmed: %(moment)s", moment=moment), indent=2)
    echo(
        _(
            "Pupils %(pupils)d, families %(families)d, reached %(reached)d",
            pupils=s.pupils,
            families=s.guardians,
            reached=s.reached,
        ),
        indent=2,
    )
    for label, delta in (
        (_("First family reached after"), s.first_reached),
        (_("Last family reached after"), s.last_reached),
        (_("Half of the families reached within (median)"), s.p50),
        (_("Nine in ten families reached within (90th percentile)"), s.p90),
    ):
        click.echo("  " + label.translate(language()) + ": " + _shown_duration(delta))
    for rate in s.rates:
        answered = "-" if rate.answered is None else f"{rate.answered}/{rate.pupils}"
        echo(
            _n(
                "Answered after %(num)d minute: %(answered)s",
                "Answered after %(num)d minutes: %(answered)s",
                rate.minutes,
                answered=answered,
            ),
            indent=2,
        )
    echo(
        _(
            "Families not reachable: %(num)d (no address or broadcasts stopped: %(none)d; every delivery failed: %(failed)d)",
            num=s.unreachable,
            none=s.without_delivery,
            failed=s.failed,
        ),
        indent=2,
    )


def _shown_duration(delta: timedelta | None) -> str:
    shown = reports.duration(delta)
    return "-" if shown is None else shown.translate(language())
