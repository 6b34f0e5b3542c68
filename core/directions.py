"""How the direction of a passage is named for people: a word in a table, a notice, a chat reply."""

from __future__ import annotations

from core.i18n import Message, _p
from core.models.enums import Direction

LABELS: dict[Direction, Message] = {
    Direction.ARRIVAL: _p("direction", "Arrival"),  # ja: 登校
    Direction.DEPARTURE: _p("direction", "Departure"),  # ja: 下校
    Direction.PASSAGE: _p("direction", "Passage"),  # ja: 通過 (a children's hall)
}


def label(direction: Direction | str | None) -> Message | None:
    """The direction's name; None for none (a passage recorded without one) or a value this version does not know."""
    try:
        return LABELS[Direction(direction)] if direction else None
    except ValueError:
        return None
