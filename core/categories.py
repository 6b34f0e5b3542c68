"""How the categories of a broadcast are named for people: a notice's subject, the compose form, a status page."""

from __future__ import annotations

from core.i18n import Message, _p
from core.models.enums import BroadcastCategory

LABELS: dict[BroadcastCategory, Message] = {
    BroadcastCategory.SUSPICIOUS_PERSON: _p("broadcast category", "Suspicious person"),  # ja: 不審者情報
    BroadcastCategory.DISASTER: _p("broadcast category", "Disaster"),  # ja: 災害情報
    BroadcastCategory.CLOSURE: _p("broadcast category", "Closure"),  # ja: 休校・休園
    BroadcastCategory.GENERAL: _p("broadcast category", "Notice"),  # ja: お知らせ
}


def label(category: BroadcastCategory | str) -> Message:
    return LABELS[BroadcastCategory(category)]
