"""``mimamori db``: the database schema."""

from __future__ import annotations

from pathlib import Path

import click

from core import sealing
from core.db import upgrade_schema
from core.i18n import _, _n
from core.keyring import Keyring
from mimamori.cli import N_, echo, run, settings_of


@click.group("db", help=N_("Database schema."))
def command() -> None:
    pass


@command.command("upgrade", help=N_("Bring an empty or older database to the current schema."))
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    settings = settings_of(ctx)
    # a migration may seal a column: with the keyring there is, never a new one (wrong keys)
    if settings.keyring.lstrip().startswith("{") or Path(settings.keyring).exists():
        sealing.install(sealing.Sealer(Keyring.open(settings.keyring)))
    try:
        applied = run(upgrade_schema(settings.database_url, progress=lambda n: echo(_("Applied %(name)s.", name=n))))
    finally:
        sealing.install(None)
    echo(
        _n(
            "The schema is current (%(num)d migration applied).",
            "The schema is current (%(num)d migrations applied).",
            len(applied),
        )
    )


@command.command("makemigrations", help=N_("(Developers) write a migration for the model changes since the last one."))
@click.argument("name")
def makemigrations(name: str) -> None:
    from tortoise.cli.cli import CLIContext
    from tortoise.cli.cli import makemigrations as write_migrations

    run(write_migrations(CLIContext("core.db.AUTHORING_CONFIG", None), (), False, name))
