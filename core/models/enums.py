"""The closed vocabularies of the domain, stored as their string values."""

from enum import IntEnum, StrEnum


class SiteKind(StrEnum):
    SCHOOL = "school"
    HALL = "hall"


class TagStatus(StrEnum):
    ACTIVE = "active"
    LOST = "lost"
    RETIRED = "retired"


class Language(StrEnum):
    """What a person reads Mimamori in, as a BCP 47 tag (core.i18n.languages holds each one's facts)."""

    JA = "ja"
    JA_EASY = "ja-x-easy"  # やさしい日本語: plain Japanese for parents still learning it
    EN = "en"
    ZH_HANS = "zh-Hans"
    PT_BR = "pt-BR"
    VI = "vi"
    FIL = "fil"


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    LINE = "line"
    WEBPUSH = "webpush"


class AddressStatus(StrEnum):
    PENDING = "pending"  # added, waiting for the owner to verify it
    ACTIVE = "active"
    FAILING = "failing"  # permanent failures reached the configured count
    INACTIVE = "inactive"  # the owner blocked us (e.g. blocked the bot)


class StaffRole(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    SUPPORT = "support"


class Direction(StrEnum):
    ARRIVAL = "arrival"  # 登校
    DEPARTURE = "departure"  # 下校
    PASSAGE = "passage"  # 通過 (children's hall)


class PassageOutcome(StrEnum):
    NOTIFIED = "notified"
    REPEAT = "repeat"  # same pupil, same site, within the repeat window: stored, nobody told
    UNKNOWN_TAG = "unknown_tag"
    LOST_TAG = "lost_tag"
    RETIRED_TAG = "retired_tag"


class BroadcastCategory(StrEnum):
    SUSPICIOUS_PERSON = "suspicious_person"
    CLOSURE = "closure"
    DISASTER = "disaster"
    GENERAL = "general"


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"  # fan-out under way
    FANNED_OUT = "fanned_out"
    CANCELLED = "cancelled"


class NoticeKind(StrEnum):
    PASSAGE = "passage"
    BROADCAST = "broadcast"
    VERIFICATION = "verification"
    STAFF = "staff"
    ADDRESS_INACTIVE = "address_inactive"  # told to the other address when one blocked us
    REPLY = "reply"  # a chat bot's answer that could not go at once (the chat API was away)
    MAIL_ANSWER = "mail_answer"  # an answer to an incoming mail (mail.replies)
    BROADCASTS_STOPPED = "broadcasts_stopped"  # told to the other addresses when one unsubscribed from broadcasts
    ABSENCE_REPORT = "absence_report"  # a report recorded, confirmed to every address of the family
    NOT_SEEN = "not_seen"  # a pupil neither seen nor reported by a check's time


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"


LANE_LENGTH = 64  # a pacing group's name (core.channels.spec): a carrier's, later a push service's host


class Priority(IntEnum):
    """The order deliveries are claimed in: lower first. URGENT and after are bulk: they may use only
    part of a mail group's pace, the rest is kept for what ranks above them (core.delivery.lanes)."""

    TRANSACTIONAL = 0  # one person's own notice: passages, verification, a bot's or a mail's answer
    URGENT = 1  # suspicious-person and disaster broadcasts, escalations and resends
    NORMAL = 2  # other broadcasts, the note that an address was blocked
    LOW = 3  # staff notices

    @property
    def bulk(self) -> bool:
        return self.is_bulk(self)

    @staticmethod
    def is_bulk(priority: int) -> bool:
        """Of a stored priority, without making the member (once per notice sent)."""
        return priority >= Priority.URGENT
