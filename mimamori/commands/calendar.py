"""``mimamori calendar``: a site's school days, its days off and extra school days, and their import."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from core import calendar_entries, school_calendar, zones
from core.accounts import site_named
from core.calendar_file import parse_calendar
from core.errors import UserError
from core.i18n import Message, _, _n
from core.models import CalendarDayKind
from mimamori.cli import N_, echo, run, settings_of
from mimamori.runtime import cli_actor, opened

_DATE = click.DateTime(["%Y-%m-%d"])


@click.group(
    "calendar",
    help=N_("A site's school calendar: show it, add or remove days off and extra school days, import a CSV."),
)
def command() -> None:
    pass


@command.command("show", help=N_("Each day from --from: school or not, and why."))
@click.argument("site")
@click.option("--from", "first", type=_DATE, help=N_("The first day, YYYY-MM-DD (default: today)."))
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366))
@click.pass_context
def show(ctx: click.Context, site: str, first: datetime | None, days: int) -> None:
    async def _show() -> None:
        async with opened(settings_of(ctx)):
            place = await site_named(site)
            start = first.date() if first is not None else zones.today(place)
            for day in await school_calendar.calendar(place, start, start + timedelta(days=days - 1)):
                echo(_day_line(day))

    run(_show())


def _day_line(day: school_calendar.Day) -> Message:
    shown = day.day.isoformat()
    if day.reason is None:
        return _("%(day)s  school", day=shown) if day.school else _("%(day)s  no school", day=shown)
    if day.school:
        return _("%(day)s  school  %(reason)s", day=shown, reason=day.reason)
    return _("%(day)s  no school  %(reason)s", day=shown, reason=day.reason)


@command.command("list", help=N_("The site's own entries still to come or under way, with the number `remove` takes."))
@click.argument("site")
@click.pass_context
def list_entries(ctx: click.Context, site: str) -> None:
    async def _list() -> None:
        async with opened(settings_of(ctx)):
            place = await site_named(site)
            entries = await calendar_entries.entries(place, since=zones.today(place))
            if not entries:
                echo(_("%(site)s keeps the national calendar: no days of its own.", site=place.name))
            for entry in entries:
                kind = _("days off") if entry.kind == CalendarDayKind.OFF else _("school days")
                echo(
                    _(
                        "%(id)d  %(first)s – %(last)s  %(kind)s  %(name)s",
                        id=entry.id,
                        first=entry.first_day.isoformat(),
                        last=entry.last_day.isoformat(),
                        kind=kind,
                        name=entry.name,
                    )
                )

    run(_list())


@command.command(
    "add",
    help=N_("Days off (or, with --school, extra school days) from FIRST to LAST (default: FIRST alone), YYYY-MM-DD."),
)
@click.argument("site")
@click.argument("first", type=_DATE)
@click.argument("last", type=_DATE, required=False)
@click.option("--name", required=True, help=N_("What the days are, e.g. 夏休み, 開校記念日, 土曜授業."))
@click.option("--school", is_flag=True, help=N_("Extra school days (default: days off)."))
@click.pass_context
def add(ctx: click.Context, site: str, first: datetime, last: datetime | None, name: str, school: bool) -> None:
    kind = CalendarDayKind.SCHOOL if school else CalendarDayKind.OFF
    entry = calendar_entries.checked(first.date(), last.date() if last is not None else None, kind, name)

    async def _add() -> None:
        async with opened(settings_of(ctx)):
            added, _known = await calendar_entries.add_entries(await site_named(site), [entry], actor=cli_actor())
            echo(_("Added to the calendar.") if added else _("The calendar already has these days."))

    run(_add())


@command.command("remove", help=N_("Remove one of the site's entries (its NUMBER as `list` shows it)."))
@click.argument("site")
@click.argument("entry_id", metavar="NUMBER", type=int)
@click.pass_context
def remove(ctx: click.Context, site: str, entry_id: int) -> None:
    async def _remove() -> None:
        async with opened(settings_of(ctx)):
            entry = await calendar_entries.remove_entry(await site_named(site), entry_id, actor=cli_actor())
            echo(_("Removed %(name)s from the calendar.", name=entry.name))

    run(_remove())


@command.command(
    "import",
    help=N_(
        "Add the days of a CSV (開始日,終了日,種別,名称 or first_day,last_day,kind,name); nothing when a line is wrong."
    ),
)
@click.argument("site")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_file(ctx: click.Context, site: str, file: Path) -> None:
    parsed = parse_calendar(file.read_bytes())
    for problem in parsed.problems:
        echo(_("Line %(line)d: %(reason)s", line=problem.line, reason=problem.reason), err=True)
    if parsed.problems:
        raise UserError(
            _n(
                "Nothing was imported: %(num)d line is wrong.",
                "Nothing was imported: %(num)d lines are wrong.",
                len(parsed.problems),
            )
        )

    async def _import() -> tuple[int, int]:
        async with opened(settings_of(ctx)):
            return await calendar_entries.add_entries(await site_named(site), parsed.entries, actor=cli_actor())

    added, known = run(_import())
    echo(_n("%(num)d entry added", "%(num)d entries added", added))
    if known:
        echo(_n("%(num)d entry was there already", "%(num)d entries were there already", known))
