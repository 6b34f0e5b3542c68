"""The bots' texts: replies from the macros in bot/templates/replies.j2.

A reply is said in a language (``say(name, language, ...)``): the macros write ``{{ _("…") }}``
and are rendered once per language. (Macros not converted yet are still Japanese then English,
whatever the language.)
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from core import templating
from core.models import Language


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=False,  # chat messages are plain text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templating.install(env)
    return env


@cache
def _replies(language: Language) -> Any:
    return _environment().get_template("replies.j2").make_module({"language": language})


def say(name: str, language: Language, **context: Any) -> str:
    """The reply ``name`` in ``language``, rendered with ``context``, trimmed."""
    return str(getattr(_replies(language), name)(**context)).strip()
