"""Broadcasts: the one two-step API (a draft, then an explicit confirm) the portal, bots, mail and CLI use.

A broadcast flows one way: draft and confirm (``drafts``) → fan-out into the outbox (``fanout``)
→ acknowledgement, or escalation without one (``acknowledgements``); ``status`` tells how it went
and resends. ``scope`` says who is in it.
"""

from core.broadcasts.acknowledgements import (
    acknowledge,
    acknowledge_as_guardian,
    acknowledge_by_address,
    escalate_unacknowledged,
)
from core.broadcasts.drafts import BODY_LIMIT, TITLE_LIMIT, BroadcastPreview, cancel, confirm, create_draft, preview
from core.broadcasts.fanout import continue_fanouts, fanout_pending
from core.broadcasts.scope import Scope, Target, check_scope_allowed, parse_scope
from core.broadcasts.status import BroadcastCounts, NotReached, resend_unreached, status
from core.channels.line_quota import LineQuota

__all__ = [
    "BODY_LIMIT",
    "TITLE_LIMIT",
    "BroadcastCounts",
    "BroadcastPreview",
    "LineQuota",
    "NotReached",
    "Scope",
    "Target",
    "acknowledge",
    "acknowledge_as_guardian",
    "acknowledge_by_address",
    "cancel",
    "check_scope_allowed",
    "confirm",
    "continue_fanouts",
    "create_draft",
    "escalate_unacknowledged",
    "fanout_pending",
    "parse_scope",
    "preview",
    "resend_unreached",
    "status",
]
