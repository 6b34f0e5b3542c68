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
from core.i18n import _
from core.models import SiteKind, StaffAccount, StaffRole
from core.registration_notice import write_registration_notices
from core.roster import ImportResult, NewGuardian, import_roster
from core.spreadsheet import SpreadsheetWriter
from core.staff_links import LINK_CODE_LIFETIME, issue_staff_link_code
from mimamori.cli import echo, run, settings_of
from mimamori.runtime import cli_actor, opened

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns

CREDENTIAL_COLUMNS = ("guardian_ref", "login_id", "initial_password", "registration_code")


@click.group("admin")
def command() -> None:
    """Administration: sites, gates, staff, roster."""


@command.command("add-site")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in SiteKind]), default="school", show_default=True)
@click.option("--camera/--no-camera", default=None, help="Default: schools have one, halls do not.")
@click.option("--cutoff", default="12:00", show_default=True, help="A first passage after this is 下校.")
@click.pass_context
def add_site(ctx: click.Context, name: str, kind: str, camera: bool | None, cutoff: str) -> None:
    """Add a school or a children's hall."""
    try:
        cutoff_time = time.fromisoformat(cutoff)
    except ValueError:
        raise UserError(f"--cutoff must be a time such as 12:00, not {cutoff!r}") from None

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
            click.echo(f"site {site.name} added ({site.kind.value}, id {site.id})")

    run(_add())


@command.command("add-gate")
@click.argument("site")
@click.argument("name")
@click.pass_context
def add_gate(ctx: click.Context, site: str, name: str) -> None:
    """Register a gate; its key is printed once, alone on the last line."""

    async def _add() -> None:
        async with opened(settings_of(ctx)):
            gate, key = await accounts.add_gate(site, name, actor=cli_actor())
            click.echo(f"gate {gate.name} at {site} added (id {gate.id}).")
            click.echo("Its key is shown only now; put it in the gate's gate.toml as server.gate_key:")
            click.echo(key)

    run(_add())


@command.command("add-staff")
@click.argument("login")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--site", "sites", multiple=True, help="A site this account works for (repeatable).")
@click.pass_context
def add_staff(ctx: click.Context, login: str, role: str, sites: tuple[str, ...]) -> None:
    """Add a staff, support or admin account; prints its one-time password."""

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


@command.command("staff-link-code")
@click.argument("login")
@click.pass_context
def staff_link_code(ctx: click.Context, login: str) -> None:
    """A one-time code that links a Telegram or LINE chat to a staff account (sent as "link CODE")."""

    async def _issue() -> None:
        async with opened(settings_of(ctx)):
            staff = await StaffAccount.get_or_none(login_id=login, disabled_at__isnull=True)
            if staff is None:
                raise UserError(f"there is no enabled staff account {login}")
            code = await issue_staff_link_code(staff.id)
            minutes = int(LINK_CODE_LIFETIME.total_seconds() // 60)
            click.echo(f"Send this to the bot within {minutes} minutes as: 連携 {code}  (or: /link {code})")
            click.echo(code)

    run(_issue())


@command.command("import-roster")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV to write new guardians' login IDs, initial passwords and registration codes to.",
)
@click.option(
    "--notices-out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for one printable registration notice per new guardian.",
)
@click.option("--partial", is_flag=True, help="Import the good rows even if some rows are bad.")
@click.pass_context
def import_roster_command(
    ctx: click.Context, roster: Path, credentials_out: Path, notices_out: Path | None, partial: bool
) -> None:
    """Import schools, pupils, tags and guardians from a CSV (UTF-8 or Shift_JIS)."""
    if credentials_out.exists():
        raise UserError(
            f"{credentials_out} already exists: choose a new name"
            " (an earlier file holds passwords that are shown only once)"
        )
    if not credentials_out.parent.is_dir():
        raise UserError(f"the directory of {credentials_out} does not exist")
    if notices_out is not None:
        _prepare_notices_folder(notices_out)
    settings = settings_of(ctx)
    bars: dict[str, ProgressBar[int]] = {}

    def progress(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase)
        if bar is None:
            bar = bars[phase] = click.progressbar(length=total, label=f"{phase:<9}", file=sys.stderr)
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
        click.echo(str(problem))
    if not result.written:
        raise UserError(
            f"{len(result.problems)} bad row(s); nothing was written"
            " (fix them, or use --partial to import the other rows)"
        )
    if notices_out is not None:
        try:
            write_registration_notices(result.new_guardians, notices_out, portal_url=settings.portal.public_url)
        except (UserError, OSError) as error:
            raise UserError(
                f"{error} 名簿は取り込まれ、全員のログインIDは {credentials_out} にあります。"
                f" The roster was imported; every new login is in {credentials_out}."
            ) from None
    counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in sorted(result.counts.items()) if n)
    click.echo(
        f"imported {result.rows - len(result.problems)} of {result.rows} rows"
        f" (read as {result.encoding}): {counts or 'nothing changed'}"
    )
    click.echo(f"{len(result.new_guardians)} new guardian(s) written to {credentials_out}")


def _prepare_notices_folder(directory: Path) -> None:
    """Made and checked before the import: afterwards, a failure to write the notices cannot undo it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{directory} を作れません。 {directory} cannot be made: {error.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(f"{directory} に書き込めません。 {directory} is not writable.")


def write_credentials(path: Path, guardians: list[NewGuardian]) -> None:
    """Written before the import commits, so a password is never issued without being kept."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as out:
        writer = SpreadsheetWriter(out)
        writer.writerow(CREDENTIAL_COLUMNS)
        for g in guardians:
            writer.writerow((g.guardian_ref, g.login_id, g.initial_password, g.registration_code))
