"""The ``mimamori`` command: one group, with a subcommand module per area."""

from __future__ import annotations

import errno
import gettext
import importlib
import os
import sys
import unicodedata
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from tortoise.exceptions import DBConnectionError, OperationalError

from core import event_loop
from core.config import Settings, load_settings
from core.errors import ExplainedError, UserError
from core.i18n import Message, _
from core.i18n.catalogs import DOMAIN, LOCALES, translations
from core.i18n.languages import LANGUAGES, STAFF_LANGUAGES, from_locale_environment
from core.models import Language

T = TypeVar("T")


def N_(text: str) -> str:  # gettext's conventional name for a text marked now, translated later
    """A help text for the catalogs; ``_Group`` translates it when click shows it."""
    return text


def language() -> Language:
    """The command line's language: Japanese, or English where the terminal's locale says so."""
    return from_locale_environment(os.environ, STAFF_LANGUAGES)


def echo(message: Message, *, err: bool = False, indent: int = 0) -> None:
    """One line for the person at the terminal, in the command line's language."""
    click.echo(" " * indent + message.translate(language()), err=err)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """Justified for a terminal, where Japanese characters take two columns (at least one space)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    space = " " * max(width - columns, 1)
    return space + text if right else text + space


def os_reason(error: OSError) -> Message | str:
    """Why a file or folder could not be used, in the reader's words for the usual reasons."""
    known = {
        errno.EACCES: _("no permission"),
        errno.EPERM: _("no permission"),
        errno.ENOTDIR: _("a file of that name is in the way"),
        errno.EEXIST: _("a file of that name is in the way"),
        errno.ENOSPC: _("the disk is full"),
        errno.EROFS: _("the disk is read-only"),
    }
    return known.get(error.errno or 0, error.strerror or type(error).__name__)


def told(message: Message | str) -> str:
    """``message`` in the command line's language (a ``str``, a peer's or the system's own words, as it is)."""
    return message.translate(language()) if isinstance(message, Message) else message


class CommandError(click.ClickException):
    """One clear line for the person at the terminal, never a traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


class _Settings:
    """Settings are read when a command first needs them, so ``--help`` works without any."""

    def __init__(self, config_path: str | None, *, long_running: bool = False) -> None:
        self._path = config_path
        self._settings: Settings | None = None
        self._long_running = long_running

    def get(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._path)
            if self._long_running:
                _prepare_long_running(self._settings)
        return self._settings


# Commands that run until stopped: logging and the metrics' directory are set up when they first
# read their settings (after their own options are parsed, so their --help needs no settings).
_LONG_RUNNING = ("serve", "worker")


def _prepare_long_running(settings: Settings) -> None:
    """One logging set-up (core.logs) and the metrics' shared directory, before anything logs or
    counts."""
    from core.logs import configure_logging
    from mimamori.metrics_endpoint import prepare_metrics

    configure_logging(settings)
    prepare_metrics(settings)


# Each command's module is imported when that command runs: the chat SDKs and the portal weigh
# about 200 MB, which a delivery worker without chat settings should not carry.
_COMMANDS = (
    "admin",
    "audit",
    "broadcast",
    "calendar",
    "config",
    "db",
    "demo",
    "gate",
    "halls",
    "keys",
    "serve",
    "status",
    "worker",
)


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        command: click.Command = importlib.import_module(f"mimamori.commands.{name}").command
        return in_the_terminals_language(command)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (UserError, ExplainedError) as exc:
            raise CommandError(f"mimamori: {told(exc.message)}") from None
        except (DBConnectionError, OperationalError, OSError) as exc:
            unusable = _("The database cannot be used: %(reason)s", reason=_reason(exc))
            raise CommandError(f"mimamori: {told(unusable)}") from None


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_object(_Settings).get()  # type: ignore[union-attr]  # main() puts one in every context


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return event_loop.run(coroutine)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=N_("Mimamori 見守り: child-watching notices for a city's schools."),
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help=N_("TOML settings file (default: $MIMAMORI_CONFIG, else the embedded defaults)."),
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    ctx.obj = _Settings(config_path, long_running=ctx.invoked_subcommand in _LONG_RUNNING)
    if ctx.invoked_subcommand == "gate":  # no central settings: the same masking, as text
        from core.config import LoggingSettings
        from core.logs import configure_logging

        configure_logging(LoggingSettings())


def in_the_terminals_language(command: click.Command) -> click.Command:
    """``command`` with its help texts (``N_``) and its subcommands' translated."""
    catalog = translations(language())
    command.help = catalog.gettext(command.help) if command.help else command.help
    command.short_help = catalog.gettext(command.short_help) if command.short_help else command.short_help
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            param.help = catalog.gettext(param.help)
    for sub in getattr(command, "commands", {}).values():
        in_the_terminals_language(sub)
    return command


def _click_speaks_it() -> None:
    """Click's own texts (usage, its errors) go through gettext's global domain: ours, in the
    command line's language (LANGUAGE first, as gettext reads it; this process and its children)."""
    os.environ["LANGUAGE"] = LANGUAGES[language()].locale
    gettext.bindtextdomain(DOMAIN, str(LOCALES))
    gettext.textdomain(DOMAIN)


def main() -> None:
    _click_speaks_it()
    in_the_terminals_language(cli)
    try:
        cli.main(prog_name="mimamori")
    except KeyboardInterrupt:
        sys.exit(130)
