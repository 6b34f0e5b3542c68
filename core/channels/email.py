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


# Receivers that count and throttle a sender's mail apart, by the domain after the "@": Japan's
# carriers (who take a burst for spam, see the README's Delivery section) and Gmail. Any other
# domain is paced in OTHER.
CARRIER_DOMAINS = {
    "docomo": ("docomo.ne.jp",),
    "au": ("ezweb.ne.jp", "au.com"),
    "softbank": ("softbank.ne.jp", "i.softbank.jp"),
    "gmail": ("gmail.com", "googlemail.com"),
}
OTHER = "other"
_LANE_OF_DOMAIN = {domain: lane for lane, domains in CARRIER_DOMAINS.items() for domain in domains}


def lane(value: str) -> str:
    """The pacing group of a mail address: a carrier's or Gmail's name, else ``other``."""
    return _LANE_OF_DOMAIN.get(value.rpartition("@")[2].lower(), OTHER)


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
    lane=lane,
    lanes=(*CARRIER_DOMAINS, OTHER),
    lane_labels={"softbank": "SoftBank", "gmail": "Gmail", OTHER: _("other domains")},
    example="keiko.sato@example.jp",
)
