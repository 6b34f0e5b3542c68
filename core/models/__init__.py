"""The domain model. Tortoise app label ``core``; see core.db for the configuration."""

from core.models.addresses import ContactAddress
from core.models.attendance import (
    AbsenceReport,
    AttendanceCheck,
    AttendanceMark,
    CheckAnswerLink,
    CheckKind,
    HallEnrolment,
    ReportKind,
    ReportReason,
    ReportVia,
)
from core.models.audit import AuditEntry
from core.models.broadcasts import Broadcast, BroadcastAnswer, BroadcastAnswerChange, QuestionTemplate
from core.models.calendar import CalendarDayKind, CalendarEntry
from core.models.chat import ChatEvent, StaffLinkCode
from core.models.deliveries import Delivery
from core.models.enums import (
    AddressStatus,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    DeliveryStatus,
    Direction,
    Language,
    NoticeKind,
    PassageOutcome,
    Priority,
    SiteKind,
    StaffRole,
    TagStatus,
)
from core.models.heartbeats import PartHeartbeat
from core.models.mailbox import MailboxState
from core.models.passages import Passage, Photo, PhotoView
from core.models.people import Guardian, Pupil, Tag
from core.models.sessions import PortalSession
from core.models.sites import Gate, Site
from core.models.staff import StaffAccount, StaffAddress
from core.models.throttle import ThrottleState

__all__ = [
    "AbsenceReport",
    "AttendanceCheck",
    "AttendanceMark",
    "CheckAnswerLink",
    "CheckKind",
    "HallEnrolment",
    "ReportKind",
    "ReportReason",
    "ReportVia",
    "AddressStatus",
    "AuditEntry",
    "Broadcast",
    "BroadcastAnswer",
    "BroadcastAnswerChange",
    "BroadcastCategory",
    "CalendarDayKind",
    "CalendarEntry",
    "BroadcastStatus",
    "Channel",
    "ChatEvent",
    "ContactAddress",
    "Delivery",
    "DeliveryStatus",
    "Direction",
    "Gate",
    "Guardian",
    "Language",
    "MailboxState",
    "NoticeKind",
    "PartHeartbeat",
    "Passage",
    "PassageOutcome",
    "Photo",
    "PhotoView",
    "Priority",
    "PortalSession",
    "Pupil",
    "QuestionTemplate",
    "Site",
    "SiteKind",
    "StaffAccount",
    "StaffAddress",
    "StaffLinkCode",
    "StaffRole",
    "Tag",
    "TagStatus",
    "ThrottleState",
]
