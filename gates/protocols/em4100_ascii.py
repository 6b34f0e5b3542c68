"""The common 125 kHz reader frame: STX, 10 ASCII hex digits, 2 hex digits of XOR checksum, ETX.

The checksum is the XOR of the five bytes the ten digits spell. Some readers put CR LF before
ETX; that is accepted.
"""

from __future__ import annotations

from gates.protocols import BadFrameCounter, ParserOptions

NAME = "em4100-ascii"
STX, ETX = 0x02, 0x03
_LONGEST = 1 + 10 + 2 + 2 + 1  # with CR LF


def frame(tag: str) -> bytes:
    """The frame a reader sends for ``tag`` (10 hex digits); used by the simulator and tests."""
    checksum = 0
    for byte in bytes.fromhex(tag):
        checksum ^= byte
    return bytes([STX]) + f"{tag.upper()}{checksum:02X}".encode("ascii") + bytes([ETX])


class Parser(BadFrameCounter):
    def __init__(self, options: ParserOptions) -> None:
        super().__init__(NAME)
        self._buffer = bytearray()
        self._in_garbage = False  # a run of stray bytes split across reads counts once

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        tags = []
        while self._buffer:
            start = self._buffer.find(STX)
            if start == -1:
                self._stray(self._buffer)
                self._in_garbage = True
                self._buffer.clear()
                break
            if start > 0:
                self._stray(self._buffer[:start])
                del self._buffer[:start]
            self._in_garbage = False
            end = self._buffer.find(ETX, 1)
            restart = self._buffer.find(STX, 1)
            if restart != -1 and (end == -1 or restart < end):
                self.bad("a frame cut short", self._buffer[:restart])
                del self._buffer[:restart]
                continue
            if end == -1:
                if len(self._buffer) > _LONGEST:
                    self.bad("an overlong frame", self._buffer)
                    self._buffer.clear()
                break
            body = bytes(self._buffer[1:end]).rstrip(b"\r\n")
            del self._buffer[: end + 1]
            tag = self._tag(body)
            if tag is not None:
                tags.append(tag)
        return tags

    def _stray(self, data: bytes | bytearray) -> None:
        if not self._in_garbage:
            self.bad("bytes outside a frame", data)

    def _tag(self, body: bytes) -> str | None:
        try:
            text = body.decode("ascii")
            values = bytes.fromhex(text)
        except ValueError:
            self.bad("a frame that is not hex", body)
            return None
        if len(values) != 6:
            self.bad("a frame of the wrong length", body)
            return None
        checksum = 0
        for byte in values[:5]:
            checksum ^= byte
        if checksum != values[5]:
            self.bad("a frame with a bad checksum", body)
            return None
        return text[:10].upper()
