"""Failure reasons as they are stored and shown: our words and the peer's codes, nothing else.

A peer's own text (an SMTP reply, a Bot API description, a LINE error) can echo the address,
the chat id or a name, so channels never pass it on: they pick our words with ``in_our_words``.
``at_rest`` is the net under every stored reason (the log mask, and a bounded length).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.logs import mask

LIMIT = 500  # characters: our reasons are one line


def in_our_words(said: str, known: Mapping[str, str], otherwise: str) -> str:
    """Our words for the first phrase of ``known`` (lower case) found in what a peer ``said``."""
    lowered = said.lower()
    return next((ours for phrase, ours in known.items() if phrase in lowered), otherwise)


def at_rest(reason: str) -> str:
    """``reason`` as it may be written to a column (and shown to staff)."""
    return mask(" ".join(reason.split()))[:LIMIT]
