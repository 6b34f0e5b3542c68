"""Broadcasts: the one two-step API (a draft, then an explicit confirm) the portal, bots, mail and CLI use.

A broadcast flows one way: draft and confirm (``drafts``) → fan-out into the outbox (``fanout``)
→ answers to what it asks (``questions``, ``answers``), or escalation without one; ``status`` tells how it went
and resends. ``scope`` says who is in it, ``people`` who each guardian is to staff.
"""

from core.broadcasts.answers import (
    PORTAL,
    Asked,
    answer,
    answer_by_token,
    asked,
    asked_by_token,
    asked_in_chat,
    close_question,
    escalate_unanswered,
    guardians_of_chat,
    unanswered_guardians,
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
from core.broadcasts.status import BroadcastCounts, NotReached, resend_unanswered, resend_unreached, status
from core.channels.line_quota import LineQuota
from core.questions import ACKNOWLEDGEMENT, BUILTIN_TEMPLATES, Choice, Question, question_of, templates

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
    "ACKNOWLEDGEMENT",
    "BUILTIN_TEMPLATES",
    "PORTAL",
    "Asked",
    "Choice",
    "Question",
    "answer",
    "answer_by_token",
    "asked",
    "asked_by_token",
    "asked_in_chat",
    "close_question",
    "guardians_of_chat",
    "question_of",
    "templates",
    "unanswered_guardians",
    "cancel",
    "check_scope_allowed",
    "may_see",
    "confirm",
    "continue_fanouts",
    "create_draft",
    "escalate_unanswered",
    "escalates",
    "fanout_pending",
    "parse_scope",
    "preview",
    "resend_unanswered",
    "resend_unreached",
    "scope_choices",
    "scope_from_choices",
    "status",
]
