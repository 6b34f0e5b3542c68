"""What every channel says about itself: the facts the rest of the code looks up instead of branching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.i18n import Message
from core.i18n.languages import language_or_default
from core.models.enums import Channel, Language


class Still(StrEnum):
    """How a passage notice on this channel carries the still, for a guardian who opted in."""

    BYTES = "bytes"  # the JPEG rides with the message
    LINK = "link"  # a short-lived link the app fetches (core.channels.line_photos)
    NONE = "none"  # never: the notice links the photo page, which asks for a login


def stripped(value: str) -> str:
    """An address as given, without the white space around it."""
    return value.strip()


def not_shown(value: str) -> str:
    """Nothing: a chat's id means nothing to a person, so a chat is named by its app alone."""
    return ""


ONE_LANE = "all"


def one_lane(value: str) -> str:
    """Every address in one pacing group: a chat's API counts all our calls together."""
    return ONE_LANE


@dataclass(frozen=True, kw_only=True)
class ChannelSpec:
    """One channel's facts. The defaults are the cautious answer: no HTML, no buttons, one address
    a call, the address never shown."""

    channel: Channel
    name: Message  # the channel's name for people: label() says it in a language
    still: Still
    settings_section: str  # the attribute of ``Settings`` (and TOML table) holding its settings
    enabled_by: str | None  # the setting in that section that turns the channel on; None: always on
    transport: str  # "module:Class", built with the section; resolved by mimamori.delivery
    valid: Callable[[str], bool]  # whether a (normalised) address has this channel's form
    example: str  # a made-up address of this channel's form, for tests and documentation
    renders_html: bool = False  # a notice gets an HTML part (the mail frame when its template has none)
    has_buttons: bool = False  # chat buttons whose postback comes back to the conversation
    multicast_limit: int | None = None  # addresses one identical message may go to in one call
    normalise: Callable[[str], str] = stripped  # the form an address is stored in
    mask: Callable[[str], str] = not_shown  # how an address is shown to its owner (a chat, a mail answer)
    readable: bool = (
        True  # the address means something to its owner (a mail address, a chat id); else its mask is shown
    )
    # The pacing group (lane) of a normalised address: a short category name, never personal data.
    # Each lane is paced apart (core.delivery.lanes), so a slow receiver does not hold up the others.
    lane: Callable[[str], str] = one_lane
    lanes: tuple[str, ...] = (ONE_LANE,)  # the lanes ``lane`` gives, for settings and status
    lane_labels: dict[str, Message | str] = field(default_factory=dict)  # a lane's name for people, if not its own

    def label(self, language: Language | str) -> str:
        """The name in ``language`` (a value that names no language: the default one's)."""
        return self.name.translate(language if isinstance(language, Language) else language_or_default(language))

    def lane_label(self, lane: str, language: Language | str) -> str:
        """A lane's name for people, in ``language``: its own name when it has none (a carrier's), a
        dash for rows written before lanes."""
        label = self.lane_labels.get(lane, lane or "-")
        if isinstance(label, str):
            return label  # a brand's name
        return label.translate(language if isinstance(language, Language) else language_or_default(language))

    def enabled(self, section: Any) -> bool:
        """Whether the channel is configured, given its settings section."""
        return self.enabled_by is None or getattr(section, self.enabled_by) is not None
