"""What a person registered never lies in the database in plain text: not in the sealed columns,
and not in the reasons stored after every channel failed with a reply echoing the address."""

import asyncio
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

from bot.line.transport import LineTransport
from bot.telegram.transport import TelegramTransport
from core.addresses import add_verified_address
from core.config import Settings, load_settings
from core.db import close_database
from core.delivery.outbox import enqueue
from core.delivery.worker import DeliveryWorker
from core.models import (
    Channel,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    Gate,
    NoticeKind,
    Passage,
    PassageOutcome,
    Photo,
    StaffAccount,
    StaffRole,
)
from core.roster import guardian_key
from mail.smtp import SmtpTransport
from tests.factories import make_guardian, make_pupil, make_site
from tests.fakes.line_api import FakeLineApi
from tests.fakes.telegram_api import FakeTelegramApi
from tests.mailsink import MailSink

NAMES = ["見守 花子", "Hanako Mimamori", "見守 恵子"]
ADDRESSES = ["hanako.mimamori@example.jp", "U4af4980629-line-user", "987654321"]
PHOTO = b"\xff\xd8\xff\xe0JFIF-" + b"MIMAMORI-PHOTO-SENTINEL-" * 40 + b"\xff\xd9"
TAG = "1A2B3C4D5E"
TOTP = "TOTPSECRETSENTINELBASE32"
FAMILY_REF = "S2026-0042"  # the school's reference for the family: often a student number


async def _write_known_values() -> None:
    site = await make_site()
    pupil = await make_pupil(site, NAMES[0], tag=TAG)
    await make_pupil(site, NAMES[1])
    guardian = await make_guardian(NAMES[2], pupils=[pupil])
    guardian.roster_ref, guardian.roster_ref_index = FAMILY_REF, guardian_key(FAMILY_REF)
    await guardian.save()
    await add_verified_address(guardian.id, Channel.EMAIL, ADDRESSES[0], limit=3)
    await add_verified_address(guardian.id, Channel.LINE, ADDRESSES[1], limit=3)
    await add_verified_address(guardian.id, Channel.TELEGRAM, ADDRESSES[2], limit=3)
    await StaffAccount.create(login_id="kato", role=StaffRole.STAFF, password_hash="x", totp_secret=TOTP)
    gate = await Gate.create(site=site, name="正門", key_hash="0" * 64)
    now = datetime.now(UTC)
    passage = await Passage.create(
        event_id=uuid4(),
        gate=gate,
        site=site,
        pupil=pupil,
        tag_number=TAG,
        tag_number_index="x",
        seen_at=now,
        outcome=PassageOutcome.NOTIFIED,
    )
    await Photo.create(
        passage=passage,
        token="t",
        jpeg=PHOTO,
        size=len(PHOTO),
        taken_at=now,
        expires_at=now + timedelta(days=30),
    )
    assert (await Photo.get(passage=passage)).jpeg == PHOTO  # and it still reads back


async def _every_channel_refuses_echoing_the_address(settings: Settings, mail_sink: MailSink) -> None:
    """One notice to each address is refused with a reply quoting the address and a name (as
    Postfix and some chat APIs do), the next one goes."""
    email, line, telegram = ADDRESSES
    mail_sink.answer(email, f"550 5.1.1 <{email}>: Recipient address rejected: {NAMES[2]} unknown")
    telegram_api, line_api = await FakeTelegramApi().start(), await FakeLineApi().start()
    telegram_api.fail("sendMessage", 400, f"Bad Request: chat not found: {telegram} ({NAMES[2]})")
    line_api.fail("push", 400, f"The property, 'to', in the request body is invalid: {line}")
    for address in await ContactAddress.all():
        for n in range(2):
            await enqueue(
                kind=NoticeKind.ADDRESS_INACTIVE,
                fact=f"at-rest-{n}",
                address=address,
                payload={"inactive_channel": "line"},
            )
    settings = load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        smtp={
            "host": "127.0.0.1",
            "port": mail_sink.port,
            "from_address": "mimamori@city.example.jp",
            "timeout_seconds": 5,
        },
        telegram={"token": telegram_api.token, "api_base": telegram_api.url, "timeout_seconds": 5},
        line={
            "access_token": line_api.access_token,
            "channel_secret": line_api.channel_secret,
            "api_base": line_api.url,
            "timeout_seconds": 5,
        },
        delivery={"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "poll_seconds": 0.02},
    )
    transports = {
        Channel.EMAIL: SmtpTransport(settings.smtp),
        Channel.TELEGRAM: TelegramTransport(settings.telegram),
        Channel.LINE: LineTransport(settings.line),
    }
    try:
        await DeliveryWorker(settings, transports).drain(timeout=30)
    finally:
        for transport in transports.values():
            await transport.close()
        await telegram_api.stop()
        await line_api.stop()
    failed = await Delivery.filter(status=DeliveryStatus.FAILED).values_list("channel", "last_error")
    assert sorted(failed) == [
        (Channel.EMAIL, "mail server refused: mailbox does not exist (550 5.1.1)"),
        (Channel.LINE, "LINE refused: the LINE user id is not valid (400)"),
        (Channel.TELEGRAM, "Telegram refused: the chat does not exist"),
    ]  # what the support desk reads
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 3
    assert all(await ContactAddress.all().values_list("last_failure", flat=True))


def _assert_absent(raw: bytes) -> None:
    for text in NAMES + ADDRESSES + [TAG, FAMILY_REF]:
        for encoding in ("utf-8", "utf-16-le"):
            assert text.encode(encoding) not in raw, f"{text!r} found in plain text"
    assert b"MIMAMORI-PHOTO-SENTINEL" not in raw
    assert TOTP.encode() not in raw


async def test_names_addresses_tags_photos_and_failure_reasons_are_sealed_on_disk(
    database_url: str, settings: Settings, mail_sink: MailSink
) -> None:
    await _write_known_values()
    await _every_channel_refuses_echoing_the_address(settings, mail_sink)
    if database_url.startswith("sqlite"):
        db_file = Path(urlsplit(database_url).path)
        wal = Path(f"{db_file}-wal")
        assert wal.exists()
        _assert_absent(wal.read_bytes())  # the latest pages, before a checkpoint folds them in
    await close_database()  # everything flushed to the file or the server
    if database_url.startswith("sqlite"):
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert len(raw) > 50_000
    else:
        assert shutil.which("pg_dump"), "pg_dump is needed (scripts/bootstrap --test installs it)"
        dump = await asyncio.to_thread(
            subprocess.run,
            ["pg_dump", "--no-owner", "-d", database_url.replace("postgres://", "postgresql://", 1)],
            capture_output=True,
            check=True,
            env={**os.environ},
        )
        raw = dump.stdout
        assert b"CREATE TABLE public.guardian" in raw
    _assert_absent(raw)
