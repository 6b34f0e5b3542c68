"""How the states staff pages show are named for staff: a passage's outcome, a tag's, an address's,
a delivery's, a kind of notice, a kind of site, an audit action. Staff texts: ja and en."""

from __future__ import annotations

from core import channels
from core.i18n import Message, _n, _p
from core.models.enums import (
    AddressStatus,
    Channel,
    DeliveryStatus,
    NoticeKind,
    PassageOutcome,
    SiteKind,
    TagStatus,
)

OUTCOMES: dict[PassageOutcome, Message] = {
    PassageOutcome.NOTIFIED: _p("passage outcome", "Notified"),  # ja: 通知
    PassageOutcome.REPEAT: _p("passage outcome", "Repeat"),  # ja: 重複
    PassageOutcome.UNKNOWN_TAG: _p("passage outcome", "Unknown tag"),
    PassageOutcome.LOST_TAG: _p("passage outcome", "Lost tag"),
    PassageOutcome.RETIRED_TAG: _p("passage outcome", "Retired tag"),
}

TAG_STATES: dict[TagStatus, Message] = {
    TagStatus.ACTIVE: _p("tag", "in use"),
    TagStatus.LOST: _p("tag", "lost"),
    TagStatus.RETIRED: _p("tag", "retired"),
}

ADDRESS_STATES: dict[AddressStatus, Message] = {
    AddressStatus.PENDING: _p("address", "waiting for confirmation"),
    AddressStatus.ACTIVE: _p("address", "in use"),
    AddressStatus.FAILING: _p("address", "failing"),
    AddressStatus.INACTIVE: _p("address", "blocked by the guardian"),
}

DELIVERY_STATES: dict[DeliveryStatus, Message] = {
    DeliveryStatus.QUEUED: _p("delivery", "queued"),
    DeliveryStatus.SENDING: _p("delivery", "sending"),
    DeliveryStatus.SENT: _p("delivery", "sent"),
    DeliveryStatus.FAILED: _p("delivery", "failed"),
    DeliveryStatus.EXPIRED: _p("delivery", "expired"),
}

NOTICE_KINDS: dict[NoticeKind, Message] = {
    NoticeKind.PASSAGE: _p("notice", "Passage notice"),
    NoticeKind.BROADCAST: _p("notice", "Broadcast"),
    NoticeKind.VERIFICATION: _p("notice", "Address confirmation"),
    NoticeKind.STAFF: _p("notice", "Staff notice"),
    NoticeKind.ADDRESS_INACTIVE: _p("notice", "Address blocked notice"),
    NoticeKind.REPLY: _p("notice", "Chat answer"),
    NoticeKind.MAIL_ANSWER: _p("notice", "Mail answer"),
    NoticeKind.BROADCASTS_STOPPED: _p("notice", "Broadcasts stopped notice"),
    NoticeKind.ABSENCE_REPORT: _p("notice", "Absence report confirmation"),
    NoticeKind.NOT_SEEN: _p("notice", "Not seen notice"),
}

SITE_KINDS: dict[SiteKind, Message] = {
    SiteKind.SCHOOL: _p("site", "School"),
    SiteKind.HALL: _p("site", "Children's hall"),
}

AUDIT_ACTIONS: dict[str, Message] = {
    "absence.recorded": _p("audit", "Absence report recorded"),
    "absence.changed": _p("audit", "Absence report changed"),
    "absence.withdrawn": _p("audit", "Absence report withdrawn"),
    "attendance.at_school": _p("audit", "Family answered: at school"),
    "attendance.mark": _p("audit", "Marked present by hand"),
    "calendar.add": _p("audit", "Calendar days added"),
    "calendar.remove": _p("audit", "Calendar days removed"),
    "hall.enrol": _p("audit", "Enrolled at a children's hall"),
    "hall.withdraw": _p("audit", "Withdrawn from a children's hall"),
    "photo.denied": _p("audit", "Photo refused"),
    "preferences.change": _p("audit", "Settings changed"),
    "preferences.passages_paused": _p("audit", "Passage notices paused or resumed"),
    "preferences.photos_in_chat": _p("audit", "Photos in chat turned on or off"),
    "preferences.wants_attendance_alerts": _p("audit", "Not-seen notices turned on or off"),
    "address.add": _p("audit", "Address added"),
    "address.remove": _p("audit", "Address removed"),
    "address.resume_broadcasts": _p("audit", "Broadcasts resumed to an address"),
    "address.stop_broadcasts": _p("audit", "Broadcasts stopped to an address"),
    "broadcast.draft": _p("audit", "Broadcast drafted"),
    "broadcast.answer": _p("audit", "Broadcast answered"),
    "broadcast.close_question": _p("audit", "Broadcast's question closed"),
    "broadcast.resend": _p("audit", "Broadcast sent again"),
    "broadcast.resend_unanswered": _p("audit", "Broadcast sent again to the unanswered"),
    "question_template.save": _p("audit", "Question template saved"),
    "question_template.delete": _p("audit", "Question template deleted"),
    "broadcast.cancel": _p("audit", "Broadcast cancelled"),
    "broadcast.confirm": _p("audit", "Broadcast confirmed"),
    "gate.add": _p("audit", "Gate added"),
    "gate.revoke": _p("audit", "Gate revoked"),
    "login": _p("audit", "Logged in"),
    "login.failed": _p("audit", "Login failed"),
    "login.unlock": _p("audit", "Login unlocked"),
    "password.change": _p("audit", "Password changed"),
    "password.reset": _p("audit", "Password reset"),
    "registration_code.issue": _p("audit", "Registration code issued"),
    "roster.import": _p("audit", "Roster imported"),
    "site.add": _p("audit", "Site added"),
    "site.cutoff": _p("audit", "Cut-off changed"),
    "site.check_time": _p("audit", "Check time changed"),
    "staff.add": _p("audit", "Staff account added"),
    "staff.chat_linked": _p("audit", "Chat linked"),
    "staff.disable": _p("audit", "Staff account disabled"),
    "staff.reset": _p("audit", "Staff account reset"),
    "tag.replace": _p("audit", "Tag replaced"),
}

# What a roster import changed, by ImportResult.counts' keys.
ROSTER_COUNTS: dict[str, Message] = {
    "sites_created": _n("%(num)d site created", "%(num)d sites created", 0),
    "pupils_created": _n("%(num)d pupil added", "%(num)d pupils added", 0),
    "pupils_updated": _n("%(num)d pupil updated", "%(num)d pupils updated", 0),
    "tags_created": _n("%(num)d tag added", "%(num)d tags added", 0),
    "tags_assigned": _n("%(num)d unassigned tag given to a pupil", "%(num)d unassigned tags given to pupils", 0),
    "tags_retired": _n("%(num)d tag retired", "%(num)d tags retired", 0),
    "guardians_created": _n("%(num)d guardian added", "%(num)d guardians added", 0),
    "guardians_updated": _n("%(num)d guardian updated", "%(num)d guardians updated", 0),
    "links_added": _n("%(num)d pupil linked to a guardian", "%(num)d pupils linked to guardians", 0),
    "addresses_added": _n("%(num)d mail address added", "%(num)d mail addresses added", 0),
    "pupils_left": _n(
        "%(num)d pupil no longer on the roster (tag retired)",
        "%(num)d pupils no longer on the roster (tags retired)",
        0,
    ),
}


def counted(label: Message, count: int) -> Message:
    """A count label (``ROSTER_COUNTS``) for ``count``."""
    return Message(label.msgid, {"num": count}, plural=label.plural, count=count)


def audit_action(action: str) -> Message | str:
    """An audit action's name; the stored word for one this version does not name."""
    return AUDIT_ACTIONS.get(action, action)


# Who did something and to what, as the audit log spells them ("staff:tanaka:line", "guardian:12").
_REFERENCES: dict[str, Message] = {
    "staff": _p("audit", "staff %(who)s"),
    "guardian": _p("audit", "guardian %(who)s"),
    "gate": _p("audit", "gate %(who)s"),
    "site": _p("audit", "site %(who)s"),
    "pupil": _p("audit", "pupil %(who)s"),
    "broadcast": _p("audit", "broadcast %(who)s"),
    "photo": _p("audit", "photo %(who)s"),
    "address": _p("audit", "address %(who)s"),
}
_VIA = _p("audit", "%(who)s via %(channel)s")
SYSTEM = _p("audit", "the system")


def audit_reference(spelled: str | None) -> Message | str:
    """An audit entry's actor or target in words; as stored when this version does not know its kind."""
    if not spelled:
        return ""
    if spelled == "system":
        return SYSTEM
    kind, _sep, rest = spelled.partition(":")
    who, _sep, via = rest.partition(":")
    if kind not in _REFERENCES or not who:
        return spelled
    named = Message(_REFERENCES[kind].msgid, {"who": who}, context="audit")
    return Message(_VIA.msgid, {"who": named, "channel": _channel_name(via)}, context="audit") if via else named


def _channel_name(value: str) -> Message | str:
    try:
        return channels.spec(Channel(value)).name
    except ValueError:
        return value
