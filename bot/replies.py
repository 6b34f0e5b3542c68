"""The bots' reply texts, from the macros in bot/templates/replies.j2."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def _replies() -> Any:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=False,  # chat messages are plain text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("replies.j2").module


def say(name: str, **context: Any) -> str:
    """The reply ``name`` rendered with ``context``, trimmed."""
    return str(getattr(_replies(), name)(**context)).strip()
