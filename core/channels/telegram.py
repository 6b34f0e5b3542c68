"""The Telegram channel's facts; its code is bot/telegram/."""

from __future__ import annotations

import re

from core.channels.spec import ChannelSpec, Still, not_shown, stripped
from core.models.enums import Channel, Language

_CHAT_ID = re.compile(r"-?\d{1,20}")  # a private chat's id is the user's; groups are negative


def valid(value: str) -> bool:
    return _CHAT_ID.fullmatch(value) is not None


SPEC = ChannelSpec(
    channel=Channel.TELEGRAM,
    labels={Language.JA: "Telegram", Language.EN: "Telegram"},
    still=Still.BYTES,
    renders_html=False,
    has_buttons=True,
    multicast_limit=None,
    settings_section="telegram",
    enabled_by="token",
    transport="bot.telegram.transport:TelegramTransport",
    normalise=stripped,
    valid=valid,
    mask=not_shown,
    example="123456789",
)
