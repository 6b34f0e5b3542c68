"""``mimamori config``: the effective settings."""

from __future__ import annotations

import json
from typing import Any

import click

from core.i18n import _
from mimamori.cli import N_, settings_of, told

NOT_SET = _("not set")


@click.group("config", help=N_("Settings."))
def command() -> None:
    pass


@command.command("show", help=N_("Print the effective settings as TOML, secrets masked."))
@click.pass_context
def show(ctx: click.Context) -> None:
    click.echo(to_toml(settings_of(ctx).masked()), nl=False)


def to_toml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    _scalars(lines, {k: v for k, v in data.items() if k not in tables})
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        _scalars(lines, table)
    return "\n".join(lines) + "\n"


def _scalars(lines: list[str], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is None:
            lines.append(f"# {key} = ({told(NOT_SET)})")
        else:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
