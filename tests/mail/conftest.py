"""Inbound-mail fixtures: a private Dovecot per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.imapserver import ImapServer


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    server = ImapServer().start()
    yield server
    server.remove()
