"""The tag reader on a serial port (pyserial), in a thread of its own named ``reader``.

Any pyserial URL works as the port (a device path, ``socket://host:port``, ``rfc2217://...``).
A port that vanishes (USB unplugged) or fails is reopened with growing delays; so is one silent
for ``silent_reconnect_seconds`` when that is set. Every tag number read is handed, with the
wall-clock time its bytes arrived, to ``on_tag`` (called in the reader thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from gates.config import SerialConfig
from gates.protocols import FrameParser, ParserOptions, make_parser

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.2
RETRY_FIRST, RETRY_MAX = 0.5, 30.0


@dataclass(frozen=True)
class ReaderStatus:
    alive: bool
    last_byte_at: float | None
    error: str | None
    bad_frames: int


class Reader:
    def __init__(self, config: SerialConfig, on_tag: Callable[[str, float], None]) -> None:
        self._config = config
        self._on_tag = on_tag
        self._parser: FrameParser = make_parser(config.protocol, ParserOptions(prefix=config.prefix))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader", daemon=True)
        self._alive = False
        self._last_byte_at: float | None = None
        self._error: str | None = None
        self.reconnects = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def status(self) -> ReaderStatus:
        return ReaderStatus(self._alive, self._last_byte_at, self._error, self._parser.bad_frames)

    def _run(self) -> None:
        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                with serial.serial_for_url(
                    self._config.port, baudrate=self._config.baudrate, timeout=READ_TIMEOUT
                ) as port:
                    self._alive, self._error = True, None
                    log.info("reader: %s open", self._config.port)
                    delay = RETRY_FIRST
                    self._read_until_broken(port)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._error = f"{self._config.port}: {exc}"
                log.warning("reader: %s; retrying in %.1f s", self._error, delay)
            self._alive = False
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, RETRY_MAX)
            self.reconnects += 1

    def _read_until_broken(self, port: serial.Serial) -> None:
        opened_at = time.monotonic()
        heard_at = opened_at
        silent_limit = self._config.silent_reconnect_seconds
        while not self._stop.is_set():
            data = port.read(max(1, port.in_waiting))
            now = time.monotonic()
            if not data:
                if silent_limit and now - heard_at > silent_limit:
                    self._error = f"{self._config.port}: silent for {silent_limit:.0f} s"
                    log.warning("reader: %s; reopening", self._error)
                    return
                continue
            heard_at = now
            self._last_byte_at = time.time()
            for tag in self._parser.feed(data):
                self._on_tag(tag, self._last_byte_at)
