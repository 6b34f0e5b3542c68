"""``mimamori db``: the database schema."""

from __future__ import annotations

import click

from core.db import upgrade_schema
from mimamori.cli import run, settings_of


@click.group("db")
def command() -> None:
    """Database schema."""


@command.command("upgrade")
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Bring an empty or older database to the current schema."""
    settings = settings_of(ctx)
    applied = run(upgrade_schema(settings.database_url, progress=lambda n: click.echo(f"applied {n}")))
    click.echo(f"schema is current ({len(applied)} migration(s) applied)")


@command.command("makemigrations")
@click.argument("name")
def makemigrations(name: str) -> None:
    """(Developers) write a migration for the model changes since the last one."""
    from tortoise.cli.cli import CLIContext
    from tortoise.cli.cli import makemigrations as write_migrations

    run(write_migrations(CLIContext("core.db.AUTHORING_CONFIG", None), (), False, name))
