"""The Jinja2 environment for core's templates (printed notices, notice texts), and the filters
every environment that shows core's facts shares."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from core import channels, directions
from core.i18n import jinja as i18n
from core.models import Channel, ContactAddress, Direction, Language, Site, StaffAddress


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("core", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install(env)
    return env


def install(env: Environment) -> None:
    """Translations, dates, and core's names for things, in the language of each render."""
    i18n.install(env)
    env.filters["channel_label"] = channel_label
    env.filters["address_shown"] = address_shown
    env.filters["direction_label"] = direction_label


@pass_context
def channel_label(context: Context, channel: Channel | str, language: Language | str | None = None) -> str:
    """A channel's name, in ``language`` if given, else the render's."""
    return channels.label(channel, language or i18n.language_of(context))


def address_shown(address: ContactAddress | StaffAddress) -> str:
    """An address as its owner's pages show it (core.channels.shown)."""
    return channels.shown(address.channel, address.value)


@pass_context
def direction_label(context: Context, direction: Direction | str | None, site: Site | None = None) -> str:
    found = directions.label(direction, site.kind if site is not None else None)
    return found.translate(i18n.language_of(context)) if found else ""
