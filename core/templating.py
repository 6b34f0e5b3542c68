"""The Jinja2 environment for core's templates (printed notices, notice texts)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from core import channels


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("core", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["channel_label"] = channels.label
    return env
