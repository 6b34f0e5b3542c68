"""``mimamori demo``: a small city on the embedded defaults, from a fresh data directory."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import click

from core import accounts
from core.config import Settings, load_settings
from core.db import upgrade_schema
from core.models import SiteKind, StaffRole
from core.roster import import_roster
from mimamori.cli import run
from mimamori.commands.serve import serve
from mimamori.demo_city import demo_roster
from mimamori.runtime import opened

SCHOOLS = ["みどり小学校", "さくら小学校"]
HALL = "ひかり児童館"
ACTOR = "demo"


@click.command("demo")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"),
              show_default=True, help="Wiped and filled afresh on every run.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.pass_context
def command(ctx: click.Context, data_dir: Path, port: int) -> None:
    """Seed a small city and run Mimamori on it (Ctrl-C stops it)."""
    config_path = ctx.find_root().params.get("config_path")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    settings = load_settings(
        config_path,
        data_dir=data_dir,
        database_url=f"sqlite://{data_dir / 'mimamori.db'}",
        keyring=str(data_dir / "keyring.json"),
        portal={"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
    )
    logins = run(_seed(settings))
    _print_welcome(settings, logins)
    run(serve(settings))


async def _seed(settings: Settings) -> list[tuple[str, str, str]]:
    await upgrade_schema(settings.database_url)
    async with opened(settings) as runtime:
        for school in SCHOOLS:
            await accounts.add_site(school, SiteKind.SCHOOL, actor=ACTOR)
            await accounts.add_gate(school, "正門", actor=ACTOR)
        await accounts.add_site(HALL, SiteKind.HALL, actor=ACTOR)
        await accounts.add_gate(HALL, "入口", actor=ACTOR)
        result = await import_roster(
            demo_roster(SCHOOLS, 60),
            passwords=runtime.passwords,
            max_addresses=settings.accounts.max_addresses,
            actor=ACTOR,
        )
        guardian = result.new_guardians[0]
        logins = [("保護者 guardian", guardian.login_id, guardian.initial_password)]
        for login, role, sites in (
            ("staff", StaffRole.STAFF, [SCHOOLS[0]]),
            ("support", StaffRole.SUPPORT, []),
            ("admin", StaffRole.ADMIN, []),
        ):
            issued = await accounts.add_staff(login, role, sites, runtime.passwords, actor=ACTOR)
            logins.append((f"{role.value}", login, issued.secret))
        return logins


def _print_welcome(settings: Settings, logins: list[tuple[str, str, str]]) -> None:
    click.echo()
    click.echo(f"  見守り Mimamori demo — {len(SCHOOLS)} schools, 1 children's hall, 60 pupils")
    click.echo(f"  portal   {settings.portal.public_url}")
    click.echo()
    click.echo(f"  {_pad('who', 18)}{_pad('login', 11)}password (one-time: choose your own at first login)")
    for who, login, password in logins:
        click.echo(f"  {_pad(who, 18)}{_pad(login, 11)}{password}")
    click.echo()
    click.echo("  Ctrl-C stops the demo; running it again starts afresh.")
    click.echo()


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where Japanese characters take two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - columns, 1)
