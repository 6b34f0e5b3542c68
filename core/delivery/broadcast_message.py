"""What a broadcast's templates see, from its row alone: the message sent and the staff preview alike."""

from __future__ import annotations

from typing import Any

from core import buttons
from core.channels import spec
from core.config import Settings
from core.models import Broadcast, Channel


def broadcast_context(
    broadcast: Broadcast, settings: Settings, *, ack_token: str | None, channel: Channel
) -> dict[str, Any]:
    """What the broadcast templates see; also used for the staff preview.

    On a channel that multicasts (LINE) the acknowledge button is a postback naming the broadcast
    (the chat itself says who pressed it), so one identical message can go to many people at once.
    """
    portal = settings.portal.public_url.rstrip("/")
    scope = broadcast.scope or {}
    context: dict[str, Any] = {
        "category": broadcast.category.value,
        "title": broadcast.title,
        "body": broadcast.body,
        "sites": sorted({t["site"] for t in scope.get("targets", [])}),
        "sender": _sender(scope),
        "portal_url": portal,
        "ack_url": None,
        "ack_postback": None,
    }
    if broadcast.ack_requested and spec(channel).multicast_limit:
        context["ack_postback"] = buttons.AckBroadcast(broadcast.id).pack()
    elif broadcast.ack_requested and ack_token:
        context["ack_url"] = f"{portal}/ack/{ack_token}"
        context["ack_postback"] = buttons.Ack(ack_token).pack()
    return context


def _sender(scope: dict[str, Any]) -> str:
    sites = sorted({t["site"] for t in scope.get("targets", [])})
    return "、".join(sites) if sites else "教育委員会 Board of Education"
