"""The bots' texts: replies from the macros in bot/templates/replies.j2 (anyone's chat) and
staff_replies.j2 (what only staff read).

A reply is said in a language (``say(name, language, ...)``, ``say_to_staff``): the macros write
``{{ _("…") }}`` and are made once per language.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from core import templating
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.i18n.languages import STAFF_LANGUAGES
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
def _replies(template: str, language: Language) -> Any:
    return _environment().get_template(template).make_module({"language": language})


def say(name: str, language: Language, **context: Any) -> str:
    """The reply ``name`` in ``language``, rendered with ``context``, trimmed."""
    return str(getattr(_replies("replies.j2", language), name)(**context)).strip()


def say_to_staff(name: str, language: Language, **context: Any) -> str:
    """A staff reply (staff_replies.j2), in ``staff_language(language)``."""
    return str(getattr(_replies("staff_replies.j2", staff_language(language)), name)(**context)).strip()


def staff_language(language: Language) -> Language:
    """The language staff texts are said in to someone who chose ``language``: it, if staff pages
    are kept in it, else the default."""
    return language if language in STAFF_LANGUAGES else DEFAULT_LANGUAGE
