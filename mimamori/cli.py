"""The ``mimamori`` command: one group, with a subcommand module per area."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from tortoise.exceptions import DBConnectionError, OperationalError

from core import event_loop
from core.config import Settings, SettingsError, load_settings
from core.errors import UserError
from core.i18n import Message
from core.i18n.languages import STAFF_LANGUAGES, from_locale_environment
from core.keyring import KeyringError
from core.models import Language
from mimamori.supervision import PartFailed

T = TypeVar("T")


def language() -> Language:
    """The command line's language: Japanese, or English where the terminal's locale says so."""
    return from_locale_environment(os.environ, STAFF_LANGUAGES)


def echo(message: Message, *, err: bool = False) -> None:
    """One line for the person at the terminal, in the command line's language."""
    click.echo(message.translate(language()), err=err)


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
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            told = exc.message.translate(language()) if isinstance(exc.message, Message) else exc.message
            raise CommandError(f"mimamori: {told}") from None
        except (SettingsError, KeyringError, PartFailed) as exc:
            raise CommandError(f"mimamori: {exc}") from None
        except (DBConnectionError, OperationalError, OSError) as exc:
            raise CommandError(f"mimamori: the database cannot be used: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_object(_Settings).get()  # type: ignore[union-attr]  # main() puts one in every context


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return event_loop.run(coroutine)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML settings file (default: $MIMAMORI_CONFIG, else the embedded defaults).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Mimamori 見守り: child-watching notices for a city's schools."""
    ctx.obj = _Settings(config_path, long_running=ctx.invoked_subcommand in _LONG_RUNNING)
    if ctx.invoked_subcommand == "gate":  # no central settings: the same masking, as text
        from core.config import LoggingSettings
        from core.logs import configure_logging

        configure_logging(LoggingSettings())


def main() -> None:
    try:
        cli.main(prog_name="mimamori")
    except KeyboardInterrupt:
        sys.exit(130)
