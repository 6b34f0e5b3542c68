"""How the direction of a passage is named for people: a word in a table, a notice, a chat reply."""

from __future__ import annotations

from core.i18n import Message, _p
from core.models.enums import Direction, SiteKind

LABELS: dict[Direction, Message] = {
    Direction.ARRIVAL: _p("direction", "Arrival"),  # ja: 登校
    Direction.DEPARTURE: _p("direction", "Departure"),  # ja: 下校
    Direction.PASSAGE: _p("direction", "Passage"),  # ja: 通過 (a children's hall)
}
# A pupil seen at a children's hall has come there (halls have one reader, at their door).
AT_A_HALL = _p("direction", "Arrived at the children's hall")


def label(direction: Direction | str | None, site_kind: SiteKind | str | None = None) -> Message | None:
    """The direction's name, or what a passage at a site of ``site_kind`` means ("Arrived at the
    children's hall"); None for none (a passage recorded without one) or a value this version does
    not know."""
    try:
        known = Direction(direction) if direction else None
    except ValueError:
        return None
    if known is Direction.PASSAGE and site_kind == SiteKind.HALL:
        return AT_A_HALL
    return LABELS[known] if known else None
