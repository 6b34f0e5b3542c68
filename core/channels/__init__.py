"""The registry of channels: each channel's facts (``ChannelSpec``), found by ``spec(channel)``."""

from __future__ import annotations

from core.channels import email, line, telegram, webpush
from core.channels.spec import ChannelSpec, Still
from core.models.enums import Channel, Language

CHANNELS: dict[Channel, ChannelSpec] = {
    Channel.EMAIL: email.SPEC,
    Channel.TELEGRAM: telegram.SPEC,
    Channel.LINE: line.SPEC,
    Channel.WEBPUSH: webpush.SPEC,
}


def spec(channel: Channel) -> ChannelSpec:
    return CHANNELS[channel]


def label(channel: Channel | str, language: Language | str = Language.JA) -> str:
    """The channel's name for people; an unknown channel (a row written by a newer version) by its value."""
    try:
        return CHANNELS[Channel(channel)].label(language)
    except (ValueError, KeyError):
        return str(channel)


def shown(channel: Channel | str, value: str) -> str:
    """An address as its owner's pages show it: itself, or its mask when it means nothing to people
    (a browser's push subscription)."""
    try:
        facts = CHANNELS[Channel(channel)]
    except (ValueError, KeyError):
        return value
    return value if facts.readable else facts.mask(value)


__all__ = ["CHANNELS", "ChannelSpec", "Still", "label", "shown", "spec"]
