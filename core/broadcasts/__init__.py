"""Broadcasts: the one two-step API (a draft, then an explicit confirm) the portal, bots, mail and CLI use.

A broadcast flows one way: draft and confirm (``drafts``) → fan-out into the outbox (``fanout``)
→ acknowledgement, or escalation without one (``acknowledgements``); ``status`` tells how it went
and resends. ``scope`` says who is in it, ``people`` who each guardian is to staff.
"""

from core.broadcasts.acknowledgements import (
    acknowledge,
    acknowledge_as_guardian,
    acknowledge_by_address,
    escalate_unacknowledged,
)
from core.broadcasts.drafts import (
    BODY_LIMIT,
    STATUS_LABELS,
    TITLE_LIMIT,
    BroadcastPreview,
    LanguageShare,
    cancel,
    confirm,
    create_draft,
    preview,
)
from core.broadcasts.fanout import continue_fanouts, escalates, fanout_pending
from core.broadcasts.scope import (
    Scope,
    ScopeChoices,
    Target,
    check_scope_allowed,
    may_see,
    parse_scope,
    scope_choices,
    scope_from_choices,
)
from core.broadcasts.status import BroadcastCounts, NotReached, resend_unreached, status
from core.channels.line_quota import LineQuota

__all__ = [
    "BODY_LIMIT",
    "STATUS_LABELS",
    "TITLE_LIMIT",
    "BroadcastCounts",
    "BroadcastPreview",
    "LanguageShare",
    "LineQuota",
    "NotReached",
    "Scope",
    "ScopeChoices",
    "Target",
    "acknowledge",
    "acknowledge_as_guardian",
    "acknowledge_by_address",
    "cancel",
    "check_scope_allowed",
    "may_see",
    "confirm",
    "continue_fanouts",
    "create_draft",
    "escalate_unacknowledged",
    "escalates",
    "fanout_pending",
    "parse_scope",
    "preview",
    "resend_unreached",
    "scope_choices",
    "scope_from_choices",
    "status",
]
