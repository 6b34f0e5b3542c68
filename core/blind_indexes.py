"""The purposes of blind indexes, named once, and the indexes more than one module computes.

A purpose prefixes the value before it is keyed (``Sealer.blind_index``), so equal values in different
roles do not correlate. The strings are stored in every index already written: never change one.
"""

from __future__ import annotations

from enum import StrEnum

from core import sealing
from core.identifiers import compact_code
from core.models import Channel


class Purpose(StrEnum):
    TAG = "tag"
    NAME = "name"
    PUPIL = "pupil"
    GUARDIAN_REF = "guardian-ref"
    REGISTRATION_CODE = "registration-code"
    VERIFICATION_CODE = "verification-code"
    STAFF_LINK_CODE = "staff-link-code"
    ONE_TIME_PASSWORD = "one-time-password"
    LOGIN_DEVICE = "login-device"
    THROTTLE = "throttle"
    MAIL_DELIVERY = "mail-delivery"
    UNSUBSCRIBE = "unsubscribe"


def address_purpose(channel: Channel) -> str:
    """An address is indexed per channel: one value may be an email address and a chat id."""
    return f"address:{channel.value}"


def index(purpose: Purpose | str, value: str) -> str:
    return sealing.installed().blind_index(purpose, value)


def tag_index(number: str) -> str:
    """A tag number as the gate reads it, the roster lists it and the desk types it: compacted first."""
    return index(Purpose.TAG, compact_code(number))


def name_index(name: str) -> str:
    return index(Purpose.NAME, name)


def code_index(purpose: Purpose, code: str) -> str:
    """A code a person types (registration, verification, staff link): compacted first."""
    return index(purpose, compact_code(code))
