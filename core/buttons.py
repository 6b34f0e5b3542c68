"""Button payloads (Telegram callback data, LINE postback data): typed, with a checked prefix and both size limits.

Modelled on aiogram's ``CallbackData``: each kind of button is a frozen dataclass with a prefix;
``pack()`` gives ``prefix:field:...`` and refuses what a platform would refuse, ``parse()`` gives
the typed button back, or None for data no button of ours carries (a menu button's command word).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self

SEPARATOR = ":"
TELEGRAM_LIMIT = 64  # bytes of callback_data
LINE_LIMIT = 300  # characters of postback data
_KINDS: dict[str, type[ButtonData]] = {}


class ButtonData:
    """A button's payload; subclasses are dataclasses of ``str`` and ``int`` fields."""

    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if SEPARATOR in prefix or prefix in _KINDS:
            raise ValueError(f"button prefix {prefix!r} is taken or has {SEPARATOR!r} in it")
        cls.prefix = prefix
        _KINDS[prefix] = cls

    def pack(self) -> str:
        parts = [self.prefix]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]  # every subclass is a dataclass
            value = str(getattr(self, field.name))
            if SEPARATOR in value or not value:
                raise ValueError(f"{self.prefix} button: {field.name} is empty or has {SEPARATOR!r} in it")
            parts.append(value)
        data = SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > TELEGRAM_LIMIT or len(data) > LINE_LIMIT:
            raise ValueError(f"{self.prefix} button: {len(data.encode('utf-8'))} bytes is over Telegram's 64")
        return data

    @classmethod
    def unpack(cls, values: list[str]) -> Self | None:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # every subclass is a dataclass
        if len(values) != len(fields) or not all(values):
            return None
        typed: dict[str, Any] = {}
        for field, value in zip(fields, values, strict=True):
            if field.type in (int, "int"):
                if not value.isdigit():
                    return None
                typed[field.name] = int(value)
            else:
                typed[field.name] = value
        return cls(**typed)


def parse(data: str) -> ButtonData | None:
    """The button ``data`` came from, or None when it is not one of ours (or not well formed)."""
    prefix, *values = data.split(SEPARATOR)
    kind = _KINDS.get(prefix)
    return kind.unpack(values) if kind is not None else None


@dataclass(frozen=True)
class Ack(ButtonData, prefix="ack"):
    """Acknowledge one delivered broadcast notice (Telegram: the token names the delivery)."""

    token: str


@dataclass(frozen=True)
class _OfBroadcast:
    broadcast_id: int


class AckBroadcast(_OfBroadcast, ButtonData, prefix="ack-broadcast"):
    """Acknowledge a broadcast (LINE: the chat itself says who pressed it)."""


@dataclass(frozen=True)
class Answer(ButtonData, prefix="an"):
    """A choice under a broadcast's question (Telegram: the token names the delivery, so the guardian)."""

    token: str
    choice: int


@dataclass(frozen=True)
class AnswerFor(ButtonData, prefix="an-for"):
    """A choice for one child (a pupil id) or for ``all`` of them, once the guardian said which."""

    token: str
    choice: int
    pupil: str


@dataclass(frozen=True)
class AnswerBroadcast(ButtonData, prefix="an-b"):
    """A choice under a broadcast's question on LINE (one message to many chats: the chat says who)."""

    broadcast_id: int
    choice: int


@dataclass(frozen=True)
class AnswerBroadcastFor(ButtonData, prefix="an-b-for"):
    """A LINE choice for one child (a pupil id) or for ``all`` of them."""

    broadcast_id: int
    choice: int
    pupil: str


class ConfirmBroadcast(_OfBroadcast, ButtonData, prefix="bc-confirm"):
    """Send a draft broadcast (staff)."""


class CancelBroadcast(_OfBroadcast, ButtonData, prefix="bc-cancel"):
    """Drop a draft broadcast (staff)."""


@dataclass(frozen=True)
class Report(ButtonData, prefix="rp"):
    """A step of an absence report in a chat; the payload is the whole state, ``-`` not chosen yet."""

    kind: str = "-"  # a (absent), l (late), e (leaving early)
    pupil: str = "-"  # a pupil id, or "all" of the guardian's children
    day: str = "-"  # YYYYMMDD in the school's zone
    reason: str = "-"  # a ReportReason value
    at: str = "-"  # HHMM, late and leaving early only
    by: str = "-"  # who collects (leaving early): g, gp, o


class SendReport(Report, ButtonData, prefix="rp-send"):
    """Record the report the payload holds."""


@dataclass(frozen=True)
class CancelReport(ButtonData, prefix="rp-cancel"):
    """Drop a report being made in a chat (nothing was stored)."""


@dataclass(frozen=True)
class CheckAnswer(ButtonData, prefix="na"):
    """A one-tap answer under a "not seen" notice: the answer link's token (the credential, as on the
    page) and the choice (a ``core.answers.Answer`` value)."""

    token: str
    choice: str


# The buttons that end a dialogue (a draft broadcast, a report): the keyboard goes once one is pressed.
DECISIONS = (ConfirmBroadcast, CancelBroadcast, SendReport, CancelReport)
