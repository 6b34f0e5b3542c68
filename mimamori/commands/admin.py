"""``mimamori admin``: sites, gates, staff accounts, the roster."""

from __future__ import annotations

import os
import sys
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core import accounts
from core.errors import UserError
from core.i18n import Message, _, _n
from core.models import SiteKind, StaffAccount, StaffRole
from core.registration_notice import write_registration_notices
from core.roster import ImportResult, NewGuardian, import_roster
from core.roster.summary import CREDENTIAL_HEADS, PHASE_LABELS, credentials, import_summary
from core.spreadsheet import SpreadsheetWriter
from core.staff_links import LINK_CODE_LIFETIME, issue_staff_link_code
from mimamori.cli import N_, echo, language, os_reason, run, settings_of
from mimamori.runtime import cli_actor, opened

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns


@click.group("admin", help=N_("Administration: sites, gates, staff, roster."))
def command() -> None:
    pass


@command.command("add-site", help=N_("Add a school or a children's hall."))
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in SiteKind]), default="school", show_default=True)
@click.option("--camera/--no-camera", default=None, help=N_("Default: schools have one, halls do not."))
@click.option("--cutoff", default="12:00", show_default=True, help=N_("A first passage after this is 下校."))
@click.pass_context
def add_site(ctx: click.Context, name: str, kind: str, camera: bool | None, cutoff: str) -> None:
    try:
        cutoff_time = time.fromisoformat(cutoff)
    except ValueError:
        raise UserError(_("--cutoff is a time such as 12:00, not %(value)s.", value=cutoff)) from None

    async def _add() -> None:
        settings = settings_of(ctx)
        async with opened(settings):
            site = await accounts.add_site(
                name,
                SiteKind(kind),
                has_camera=camera,
                cutoff=cutoff_time,
                timezone=settings.timezone,
                actor=cli_actor(),
            )
            echo(
                _(
                    "Site %(name)s added (%(kind)s, id %(id)d).",
                    name=site.name,
                    kind=accounts.SITE_KIND_LABELS[site.kind],
                    id=site.id,
                )
            )

    run(_add())


@command.command("add-gate", help=N_("Register a gate; its key is printed once, alone on the last line."))
@click.argument("site")
@click.argument("name")
@click.pass_context
def add_gate(ctx: click.Context, site: str, name: str) -> None:
    async def _add() -> None:
        async with opened(settings_of(ctx)):
            gate, key = await accounts.add_gate(site, name, actor=cli_actor())
            echo(_("Gate %(gate)s at %(site)s added (id %(id)d).", gate=gate.name, site=site, id=gate.id))
            echo(_("Its key is shown only now; put it in the gate's gate.toml as server.gate_key:"))
            click.echo(key)

    run(_add())


@command.command("add-staff", help=N_("Add a staff, support or admin account; prints its one-time password."))
@click.argument("login")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--site", "sites", multiple=True, help=N_("A site this account works for (repeatable)."))
@click.pass_context
def add_staff(ctx: click.Context, login: str, role: str, sites: tuple[str, ...]) -> None:
    async def _add() -> None:
        async with opened(settings_of(ctx)) as runtime:
            staff_role = StaffRole(role)
            issued = await accounts.add_staff(login, staff_role, list(sites), runtime.passwords, actor=cli_actor())
            echo(
                _(
                    "Staff account %(login)s added (%(role)s, id %(id)d).",
                    login=login,
                    role=accounts.ROLE_LABELS[staff_role],
                    id=issued.account_id,
                )
            )
            echo(_("Its one-time password, shown only now (to be changed at the first login):"))
            click.echo(issued.secret)

    run(_add())


@command.command(
    "staff-link-code",
    help=N_('A one-time code that links a Telegram or LINE chat to a staff account (sent as "link CODE").'),
)
@click.argument("login")
@click.pass_context
def staff_link_code(ctx: click.Context, login: str) -> None:
    async def _issue() -> None:
        async with opened(settings_of(ctx)):
            staff = await StaffAccount.get_or_none(login_id=login, disabled_at__isnull=True)
            if staff is None:
                raise UserError(_("There is no enabled staff account %(login)s.", login=login))
            code = await issue_staff_link_code(staff.id)
            minutes = int(LINK_CODE_LIFETIME.total_seconds() // 60)
            # Translators: "link" is the bot's command word in the language (the bot takes all of them).
            echo(_("Send this to the bot within %(minutes)d minutes: link %(code)s", minutes=minutes, code=code))
            click.echo(code)

    run(_issue())


@command.command(
    "import-roster", help=N_("Import schools, pupils, tags and guardians from a CSV (UTF-8 or Shift_JIS).")
)
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help=N_("CSV to write new guardians' login IDs, initial passwords and registration codes to."),
)
@click.option(
    "--notices-out",
    type=click.Path(file_okay=False, path_type=Path),
    help=N_("Directory for one printable registration notice per new guardian."),
)
@click.option("--partial", is_flag=True, help=N_("Import the good rows even if some rows are bad."))
@click.pass_context
def import_roster_command(
    ctx: click.Context, roster: Path, credentials_out: Path, notices_out: Path | None, partial: bool
) -> None:
    if credentials_out.exists():
        raise UserError(
            _(
                "%(file)s already exists: choose a new name"
                " (an earlier file holds passwords that are shown only once).",
                file=str(credentials_out),
            )
        )
    if not credentials_out.parent.is_dir():
        raise UserError(_("The folder of %(file)s does not exist.", file=str(credentials_out)))
    if notices_out is not None:
        _prepare_notices_folder(notices_out)
    settings = settings_of(ctx)
    bars: dict[str, ProgressBar[int]] = {}

    def progress(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase)
        if bar is None:
            label = PHASE_LABELS[phase].translate(language()) if phase in PHASE_LABELS else phase
            bar = bars[phase] = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    async def _import() -> ImportResult:
        async with opened(settings) as runtime:
            return await import_roster(
                roster.read_bytes(),
                passwords=runtime.passwords,
                max_addresses=settings.accounts.max_addresses,
                actor=cli_actor(),
                timezone=settings.timezone,
                partial=partial,
                progress=progress,
                before_commit=lambda new: write_credentials(credentials_out, new),
            )

    try:
        result = run(_import())
    except BaseException:
        credentials_out.unlink(missing_ok=True)  # the import was rolled back: they do not exist
        raise
    for problem in result.problems:
        echo(_("Line %(line)d: %(reason)s", line=problem.line, reason=problem.reason))
    if not result.written:
        raise UserError(
            _n(
                "%(num)d row is wrong, so nothing was written (correct it, or use --partial to import the other rows).",
                "%(num)d rows are wrong, so nothing was written (correct them, or use --partial to import the other rows).",
                len(result.problems),
            )
        )
    if notices_out is not None:
        try:
            write_registration_notices(result.new_guardians, notices_out, portal_url=settings.portal.public_url)
        except (UserError, OSError) as error:
            raise UserError(
                _(
                    "%(reason)s The roster was imported; every new login is in %(file)s.",
                    reason=_why(error),
                    file=str(credentials_out),
                )
            ) from None
    _report(result, credentials_out)


def _why(error: UserError | OSError) -> Message | str:
    if isinstance(error, UserError):
        return error.message
    return _("The notices could not be written: %(reason)s", reason=os_reason(error))


def _report(result: ImportResult, credentials_out: Path) -> None:
    echo(
        _n(
            "Imported %(num)d of %(rows)d rows (read as %(encoding)s).",
            "Imported %(num)d of %(rows)d rows (read as %(encoding)s).",
            result.rows - len(result.problems),
            rows=result.rows,
            encoding=result.encoding,
        )
    )
    for line in import_summary(result.counts) or [_("Nothing changed.")]:
        echo(line)
    echo(
        _n(
            "%(num)d new guardian written to %(file)s.",
            "%(num)d new guardians written to %(file)s.",
            len(result.new_guardians),
            file=str(credentials_out),
        )
    )


def _prepare_notices_folder(directory: Path) -> None:
    """Made and checked before the import: afterwards, a failure to write the notices cannot undo it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            _("The folder %(folder)s cannot be made: %(reason)s", folder=str(directory), reason=os_reason(error))
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(_("The folder %(folder)s cannot be written to.", folder=str(directory)))


def write_credentials(path: Path, guardians: list[NewGuardian]) -> None:
    """Written before the import commits, so a password is never issued without being kept."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as out:
        writer = SpreadsheetWriter(out)
        writer.writerow([head.translate(language()) for head in CREDENTIAL_HEADS])
        for guardian in guardians:
            writer.writerow(credentials(guardian))
