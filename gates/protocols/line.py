"""One tag number per CR/LF-terminated line, after an optional fixed prefix."""

from __future__ import annotations

import re

from gates.protocols import BadFrameCounter, ParserOptions

NAME = "line"
_TAG = re.compile(r"[0-9A-Za-z]{1,64}")
_LONGEST = 256


def frame(tag: str, prefix: str = "") -> bytes:
    return f"{prefix}{tag}\r\n".encode("ascii")


class Parser(BadFrameCounter):
    def __init__(self, options: ParserOptions) -> None:
        super().__init__(NAME)
        self._prefix = options.prefix
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        *lines, rest = re.split(rb"[\r\n]", bytes(self._buffer))
        self._buffer = bytearray(rest)
        if len(self._buffer) > _LONGEST:
            self.bad("an overlong line", self._buffer)
            self._buffer.clear()
        return [tag for line in lines if line and (tag := self._tag(line)) is not None]

    def _tag(self, line: bytes) -> str | None:
        text = line.decode("ascii", "replace").strip()
        if not text:
            return None
        if not text.startswith(self._prefix):
            self.bad("a line without the prefix", line)
            return None
        number = text[len(self._prefix) :].strip()
        if not _TAG.fullmatch(number):
            self.bad("a line that is not a tag number", line)
            return None
        return number.upper()
