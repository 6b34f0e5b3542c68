"""Tag reader protocols: small parsers behind one interface, chosen by name.

A protocol is one module in this package defining ``NAME`` and a ``Parser`` class; it is found
by name without being listed anywhere else. A parser is fed bytes as they arrive (frames may be
split across reads, or arrive with garbage between them) and returns the complete, valid tag
numbers; anything else it counts in ``bad_frames`` and logs, and never raises.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParserOptions:
    prefix: str = ""  # ``line``: a fixed prefix before each tag number


class FrameParser(Protocol):
    bad_frames: int

    def feed(self, data: bytes) -> list[str]:
        """The tag numbers completed by ``data``, in order."""
        ...


class UnknownProtocol(ValueError):
    pass


@cache
def available() -> dict[str, Callable[[ParserOptions], FrameParser]]:
    """Every protocol in this package, by name."""
    found: dict[str, Callable[[ParserOptions], FrameParser]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if hasattr(module, "NAME") and hasattr(module, "Parser"):
            found[module.NAME] = module.Parser
    return found


def make_parser(name: str, options: ParserOptions = ParserOptions()) -> FrameParser:
    try:
        parser_class = available()[name]
    except KeyError:
        raise UnknownProtocol(f"unknown reader protocol {name!r} (known: {', '.join(sorted(available()))})") from None
    return parser_class(options)


class BadFrameCounter:
    """Counting and logging what a parser throws away, shared by the parsers."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.bad_frames = 0

    def bad(self, reason: str, data: bytes | bytearray) -> None:
        self.bad_frames += 1
        # the length only: a torn frame's bytes can hold most of a tag number
        log.warning("%s reader: dropped %s (%d bytes)", self.protocol, reason, len(data))
