"""The LINE channel's facts; its code is bot/line/ (and its photo links, core.channels.line_photos)."""

from __future__ import annotations

import re

from core.channels.spec import ChannelSpec, Still
from core.i18n import _
from core.models.enums import Channel

_USER_ID = re.compile(r"U[0-9a-f]{32}")


def valid(value: str) -> bool:
    return _USER_ID.fullmatch(value) is not None


SPEC = ChannelSpec(
    channel=Channel.LINE,
    name=_("LINE"),
    still=Still.LINK,  # LINE shows images only from a public HTTPS URL
    has_buttons=True,
    multicast_limit=500,  # the Messaging API's limit (line.multicast_size may lower it)
    settings_section="line",
    enabled_by="access_token",
    transport="bot.line.transport:LineTransport",
    valid=valid,
    example="U4af4980629f1a6f9a4b1c0d2e3f40516",
)
