"""``mimamori audit``: the audit log."""

from __future__ import annotations

import click

from core.audit import ChainProblem, verify_chain
from core.errors import UserError
from core.i18n import _, _n
from mimamori.cli import N_, echo, run, settings_of
from mimamori.runtime import opened

# core.audit's words for a broken link of the chain, told in the reader's language
CHAIN_PROBLEMS = {
    "does not follow the entry before it": _("does not follow the entry before it"),
    "was changed after it was written": _("was changed after it was written"),
}


@click.group("audit", help=N_("The append-only audit log."))
def command() -> None:
    pass


@command.command("verify", help=N_("Check the hash chain: any edited, removed or inserted entry is reported."))
@click.pass_context
def verify(ctx: click.Context) -> None:
    async def _verify() -> tuple[int, list[ChainProblem]]:
        async with opened(settings_of(ctx)):
            return await verify_chain()

    checked, problems = run(_verify())
    for problem in problems:
        echo(
            _(
                "Entry %(id)d: %(reason)s",
                id=problem.entry_id,
                reason=CHAIN_PROBLEMS.get(problem.reason, problem.reason),
            )
        )
    if problems:
        raise UserError(
            _n(
                "The audit log has %(num)d problem in %(entries)d entries.",
                "The audit log has %(num)d problems in %(entries)d entries.",
                len(problems),
                entries=checked,
            )
        )
    echo(
        _n(
            "The audit log: %(num)d entry, its chain intact.",
            "The audit log: %(num)d entries, their chain intact.",
            checked,
        )
    )
