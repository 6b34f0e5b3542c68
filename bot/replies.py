"""The bots' texts: replies from the macros in bot/templates/replies.j2, notices as chat messages."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from core import channels
from core.delivery.render import RenderedNotice


@cache
def _replies() -> Any:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=False,  # chat messages are plain text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["channel_label"] = channels.label
    return env.get_template("replies.j2").module


def say(name: str, **context: Any) -> str:
    """The reply ``name`` rendered with ``context``, trimmed."""
    return str(getattr(_replies(), name)(**context)).strip()


def chat_text(notice: RenderedNotice) -> str:
    """A notice as one chat message: the subject as its first line, then the text."""
    return f"{notice.subject}\n\n{notice.text}" if notice.subject else notice.text
