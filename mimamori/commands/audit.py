"""``mimamori audit``: the audit log."""

from __future__ import annotations

import click

from core.audit import ChainProblem, verify_chain
from core.errors import UserError
from mimamori.cli import run, settings_of
from mimamori.runtime import opened


@click.group("audit")
def command() -> None:
    """The append-only audit log."""


@command.command("verify")
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the hash chain: any edited, removed or inserted entry is reported."""

    async def _verify() -> tuple[int, list[ChainProblem]]:
        async with opened(settings_of(ctx)):
            return await verify_chain()

    checked, problems = run(_verify())
    for problem in problems:
        click.echo(f"entry {problem.entry_id} {problem.reason}")
    if problems:
        raise UserError(f"audit log: {len(problems)} problem(s) in {checked} entries")
    click.echo(f"audit log: {checked} entries, chain intact")
