"""The Telegram channel's facts; its code is bot/telegram/."""

from __future__ import annotations

import re

from core.channels.spec import ChannelSpec, Still
from core.i18n import _
from core.models.enums import Channel

_CHAT_ID = re.compile(r"-?\d{1,20}")  # a private chat's id is the user's; groups are negative


def valid(value: str) -> bool:
    return _CHAT_ID.fullmatch(value) is not None


SPEC = ChannelSpec(
    channel=Channel.TELEGRAM,
    name=_("Telegram"),
    still=Still.BYTES,
    has_buttons=True,
    settings_section="telegram",
    enabled_by="token",
    transport="bot.telegram.transport:TelegramTransport",
    valid=valid,
    example="123456789",
)
