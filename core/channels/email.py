"""The email channel's facts; its code is the mail/ package."""

from __future__ import annotations

from core.channels.spec import ChannelSpec, Still, stripped
from core.models.enums import Channel, Language
from core.text import hidden_characters

_LONGEST = 254  # RFC 5321's limit on a forward path


def valid(value: str) -> bool:
    return (
        "@" in value and len(value) <= _LONGEST and not any(c.isspace() for c in value) and not hidden_characters(value)
    )


def mask(value: str) -> str:
    """``ke***@example.jp``: enough for its owner to tell two addresses apart."""
    local, _, domain = value.partition("@")
    return f"{local[:2]}***@{domain}"


SPEC = ChannelSpec(
    channel=Channel.EMAIL,
    labels={Language.JA: "メール", Language.EN: "mail"},
    still=Still.NONE,
    renders_html=True,
    has_buttons=False,
    multicast_limit=None,
    settings_section="smtp",
    enabled_by=None,
    transport="mail.smtp:SmtpTransport",
    normalise=stripped,
    valid=valid,
    mask=mask,
    example="keiko.sato@example.jp",
)
