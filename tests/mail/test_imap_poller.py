"""The poller against a real Dovecot: every message handled once, across restarts of either side."""

from __future__ import annotations

from email.parser import BytesHeaderParser

import pytest

from core.config import Settings
from core.models import MailboxState
from mail.imap_poller import ImapPoller
from tests.imapserver import ImapServer
from tests.mail.conftest import eventually


def _mail(subject: str, size: int = 0) -> bytes:
    return (
        f"From: guardian@example.jp\r\nTo: mimamori@city.example.jp\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@example.jp>\r\n\r\nhello\r\n"
    ).encode() + b"x" * size


class Recorder:
    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.truncated: list[bool] = []

    async def __call__(self, data: bytes, truncated: bool) -> None:
        self.subjects.append(BytesHeaderParser().parsebytes(data)["Subject"])
        self.truncated.append(truncated)


async def test_mail_is_handled_once_then_filed_in_the_done_folder(
    inbound_settings: Settings, imap_server: ImapServer, start_poller
) -> None:
    imap_server.deliver(_mail("one"))
    imap_server.deliver(_mail("two"))
    seen = Recorder()
    running = await start_poller(ImapPoller(inbound_settings.imap, seen))

    await eventually(lambda: len(seen.subjects) == 2)
    await eventually(lambda: imap_server.subjects() == [])
    assert seen.subjects == ["one", "two"]
    assert sorted(imap_server.subjects("Done")) == ["one", "two"]
    assert all("\\Seen" in line for line in imap_server.flags("Done"))

    imap_server.deliver(_mail("three"))  # arrives during IDLE
    await eventually(lambda: len(seen.subjects) == 3)
    await running.stop()
    state = await MailboxState.get()
    assert state.last_uid == 3


async def test_a_restarted_poller_handles_nothing_twice_and_files_what_it_had_not_moved(
    inbound_settings: Settings, imap_server: ImapServer, start_poller
) -> None:
    imap_server.deliver(_mail("one"))
    imap_server.deliver(_mail("two"))
    # "one" was handled, then the process died before it could move it
    await MailboxState.create(
        mailbox=f"{imap_server.user}@127.0.0.1/INBOX", uidvalidity=imap_server.uidvalidity(), last_uid=1
    )
    seen = Recorder()
    first = await start_poller(ImapPoller(inbound_settings.imap, seen))
    await eventually(lambda: imap_server.subjects() == [])
    await first.stop()
    assert seen.subjects == ["two"]
    assert sorted(imap_server.subjects("Done")) == ["one", "two"]

    imap_server.deliver(_mail("three"))
    again = Recorder()
    second = await start_poller(ImapPoller(inbound_settings.imap, again))
    await eventually(lambda: imap_server.subjects() == [])
    await second.stop()
    assert again.subjects == ["three"]


async def test_the_poller_comes_back_after_the_server_restarts_under_its_idle(
    inbound_settings: Settings, imap_server: ImapServer, start_poller
) -> None:
    seen = Recorder()
    poller = ImapPoller(inbound_settings.imap, seen)
    await start_poller(poller)
    imap_server.stop()
    await eventually(lambda: not poller.connected.is_set())
    imap_server.deliver(_mail("while-down"))
    imap_server.start()

    await eventually(lambda: seen.subjects == ["while-down"])
    await eventually(lambda: imap_server.subjects() == [])
    imap_server.deliver(_mail("after"))
    await eventually(lambda: len(seen.subjects) == 2)
    assert seen.subjects == ["while-down", "after"]


async def test_a_hung_server_is_noticed_and_left_for_a_new_connection(
    inbound_settings: Settings, imap_server: ImapServer, start_poller, caplog
) -> None:
    settings = inbound_settings.imap.model_copy(update={"liveness_seconds": 1, "timeout_seconds": 2})
    seen = Recorder()
    poller = ImapPoller(settings, seen)
    await start_poller(poller)
    imap_server.freeze()  # the connection stays open, nothing answers
    try:
        await eventually(lambda: not poller.connected.is_set())
    finally:
        imap_server.thaw()
    assert "no answer in time" in caplog.text
    imap_server.deliver(_mail("after-the-hang"))
    await eventually(lambda: seen.subjects == ["after-the-hang"])


async def test_idle_is_renewed_and_mail_still_arrives(
    inbound_settings: Settings, imap_server: ImapServer, start_poller
) -> None:
    settings = inbound_settings.imap.model_copy(update={"idle_renew_seconds": 0.3, "liveness_seconds": 60})
    seen = Recorder()
    poller = ImapPoller(settings, seen)
    await start_poller(poller)
    await eventually(lambda: poller.idles >= 3)
    imap_server.deliver(_mail("after-renewals"))
    await eventually(lambda: seen.subjects == ["after-renewals"])


async def test_without_idle_the_mailbox_is_polled(
    inbound_settings: Settings, imap_server: ImapServer, start_poller
) -> None:
    settings = inbound_settings.imap.model_copy(update={"idle": False, "poll_seconds": 0.2})
    seen = Recorder()
    await start_poller(ImapPoller(settings, seen))
    imap_server.deliver(_mail("polled"))
    await eventually(lambda: seen.subjects == ["polled"])


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_the_mailbox_is_read_over_tls(
    inbound_settings: Settings, start_poller, monkeypatch, security: str
) -> None:
    server = ImapServer(tls=True).start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        settings = inbound_settings.imap.model_copy(
            update={
                "port": server.tls_port if security == "tls" else server.port,
                "security": security,
            }
        )
        seen = Recorder()
        running = await start_poller(ImapPoller(settings, seen))
        server.deliver(_mail("secret"))
        await eventually(lambda: seen.subjects == ["secret"])
        await running.stop()
        assert ", TLS," in server.log()  # dovecot notes the login was encrypted
    finally:
        server.remove()


async def test_a_huge_message_is_read_by_its_header_only(
    inbound_settings: Settings, imap_server: ImapServer, start_poller
) -> None:
    settings = inbound_settings.imap.model_copy(update={"max_message_bytes": 2048})
    imap_server.deliver(_mail("photo", size=50_000))
    seen = Recorder()
    await start_poller(ImapPoller(settings, seen))
    await eventually(lambda: seen.subjects == ["photo"])
    assert seen.truncated == [True]


async def test_a_message_whose_handling_fails_is_skipped_with_a_log_line(
    inbound_settings: Settings, imap_server: ImapServer, start_poller, caplog
) -> None:
    handled: list[bytes] = []

    async def fragile(data: bytes, truncated: bool) -> None:
        if b"poison" in data:
            raise ValueError("cannot read this")
        handled.append(data)

    imap_server.deliver(_mail("poison"))
    imap_server.deliver(_mail("fine"))
    await start_poller(ImapPoller(inbound_settings.imap, fragile))
    await eventually(lambda: len(handled) == 1 and imap_server.subjects() == [])
    assert "could not be handled: skipped" in caplog.text
