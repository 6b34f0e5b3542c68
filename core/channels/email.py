"""The email channel's facts; its code is the mail/ package."""

from __future__ import annotations

from core.channels.spec import ChannelSpec, Still
from core.i18n import _
from core.models.enums import Channel
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
    name=_("mail"),
    still=Still.NONE,  # a mail links the photo page instead
    renders_html=True,
    settings_section="smtp",
    enabled_by=None,  # mail is always on: verification codes and staff reports need it
    transport="mail.smtp:SmtpTransport",
    valid=valid,
    mask=mask,
    example="keiko.sato@example.jp",
)
