"""The tag reader through a real pseudo-terminal: good, bad, split and noisy frames, debounce,
and a reader unplugged and plugged back in."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from gates.config import SerialConfig
from gates.debounce import Debouncer
from gates.protocols import ParserOptions, UnknownProtocol, make_parser
from gates.protocols.em4100_ascii import frame
from gates.reader import Reader
from gates.simulator import ReaderPort
from tests.gates.conftest import wait_until

TAG, OTHER = "0A1B2C3D4E", "1F2E3D4C5B"


class Reads:
    def __init__(self) -> None:
        self.tags: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, tag: str, seen_at: float) -> None:
        assert abs(time.time() - seen_at) < 5
        with self._changed:
            self.tags.append(tag)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[str]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.tags) >= count, timeout)
        return self.tags


@pytest.fixture
def port(tmp_path):
    port = ReaderPort(tmp_path)
    yield port
    port.close()


@pytest.fixture
def reader(port):
    started = []

    def start(protocol: str = "em4100-ascii", **options) -> tuple[Reader, Reads]:
        reads = Reads()
        reader = Reader(SerialConfig(port=str(port.path), protocol=protocol, **options), reads)
        reader.start()
        started.append(reader)
        wait_until(lambda: reader.status.alive)
        return reader, reads

    yield start
    for reader in started:
        reader.stop()


def test_good_split_bad_and_noisy_frames_through_a_pty(port, reader) -> None:
    gate_reader, reads = reader()
    good = frame(TAG)
    port.write(good)
    port.write(good[:4])
    time.sleep(0.3)  # the rest of the frame arrives in a later read
    port.write(good[4:])
    bad_checksum = good[:-3] + b"00" + good[-1:]
    port.write(b"\x00\xff garbage" + bad_checksum + b"\x02ZZZZZZZZZZZZ\x03" + good[:6] + frame(OTHER))
    assert reads.wait_for(3) == [TAG, TAG, OTHER]
    wait_until(lambda: gate_reader.status.bad_frames == 4)
    status = gate_reader.status
    assert status.alive and status.error is None and abs(time.time() - status.last_byte_at) < 5


def test_the_line_protocol_with_a_prefix_through_a_pty(port, reader) -> None:
    gate_reader, reads = reader("line", prefix="ID:")
    port.write(b"ID:12345678\r\nnoise\r\nID:")
    time.sleep(0.3)
    port.write(b"abc\n\nID:not a tag!\n")
    assert reads.wait_for(2) == ["12345678", "ABC"]
    wait_until(lambda: gate_reader.status.bad_frames == 2)


def test_an_unplugged_reader_is_reported_and_read_again_once_back(port, reader) -> None:
    gate_reader, reads = reader()
    port.write(frame(TAG))
    reads.wait_for(1)
    port.unplug()
    wait_until(lambda: not gate_reader.status.alive)
    assert "ttyGATE" in gate_reader.status.error
    port.plug()
    wait_until(lambda: gate_reader.status.alive, timeout=20)
    port.write(frame(OTHER))
    assert reads.wait_for(2) == [TAG, OTHER]
    assert gate_reader.reconnects >= 1


def test_a_silent_port_is_reopened_when_asked(port, reader) -> None:
    gate_reader, reads = reader(silent_reconnect_seconds=0.3)
    wait_until(lambda: gate_reader.reconnects >= 1)
    wait_until(lambda: gate_reader.status.alive)
    port.write(frame(TAG))
    assert reads.wait_for(1) == [TAG]


def test_a_tag_is_one_passage_until_silent_for_the_quiet_period() -> None:
    debouncer = Debouncer(quiet_seconds=30)
    reads = [0, 0.1, 5, 20, 49, 80, 81]  # in range, lingering, gone 31 s, back
    assert [debouncer.admit(TAG, t) for t in reads] == [True, False, False, False, False, True, False]
    assert debouncer.admit(OTHER, 81)


def test_parsers_never_raise_on_any_bytes() -> None:
    parser = make_parser("em4100-ascii")
    for chunk in (bytes(range(256)), b"\x02" * 50, b"\x03\x02\x03", frame(TAG) * 3):
        parser.feed(chunk)
    assert parser.feed(frame(TAG)) == [TAG]
    line = make_parser("line", ParserOptions())
    assert line.feed(bytes(range(256)) * 3 + b"\n42\n") == ["42"]
    with pytest.raises(UnknownProtocol, match="unknown reader protocol 'wiegand'"):
        make_parser("wiegand")


def test_a_run_of_garbage_counts_once_however_it_is_split() -> None:
    parser = make_parser("em4100-ascii")
    for byte in b"\x00\xff garbage":
        assert parser.feed(bytes([byte])) == []
    assert parser.feed(frame(TAG)) == [TAG] and parser.bad_frames == 1


def test_a_reader_on_the_network_is_read_through_a_pyserial_url() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        gate_reader = Reader(SerialConfig(port=f"socket://127.0.0.1:{port}"), reads := Reads())
        gate_reader.start()
        try:
            connection, _ = server.accept()
            with connection:
                # pyserial's socket:// open() discards whatever arrived before it finished
                wait_until(lambda: gate_reader.status.alive)
                connection.sendall(frame(TAG) + b"noise" + frame(OTHER))
                assert reads.wait_for(2) == [TAG, OTHER]
            wait_until(lambda: gate_reader.reconnects >= 1)  # the reader hung up: it dials again
            connection, _ = server.accept()
            with connection:
                wait_until(lambda: gate_reader.status.alive)
                connection.sendall(frame(TAG))
                assert reads.wait_for(3) == [TAG, OTHER, TAG]
        finally:
            gate_reader.stop()


def test_a_torn_frame_is_logged_without_the_tag_it_held(caplog: pytest.LogCaptureFixture) -> None:
    parser = make_parser("em4100-ascii", ParserOptions())
    torn = frame(TAG)[:-3]  # the reader was unplugged mid-frame
    with caplog.at_level("WARNING"):
        assert parser.feed(torn + frame(OTHER)) == [OTHER]
    assert "cut short" in caplog.text
    assert TAG[:6] not in caplog.text
