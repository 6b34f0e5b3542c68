"""What a person registered never lies in the database in plain text."""

import asyncio
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

from core.addresses import add_verified_address
from core.db import close_database
from core.models import Channel, Gate, Passage, PassageOutcome, Photo, StaffAccount, StaffRole
from tests.factories import make_guardian, make_pupil, make_site

NAMES = ["見守 花子", "Hanako Mimamori", "見守 恵子"]
ADDRESSES = ["hanako.mimamori@example.jp", "U4af4980629-line-user", "987654321"]
PHOTO = b"\xff\xd8\xff\xe0JFIF-" + b"MIMAMORI-PHOTO-SENTINEL-" * 40 + b"\xff\xd9"
TAG = "1A2B3C4D5E"
TOTP = "TOTPSECRETSENTINELBASE32"


async def _write_known_values() -> None:
    site = await make_site()
    pupil = await make_pupil(site, NAMES[0], tag=TAG)
    await make_pupil(site, NAMES[1])
    guardian = await make_guardian(NAMES[2], pupils=[pupil])
    await add_verified_address(guardian.id, Channel.EMAIL, ADDRESSES[0], limit=3)
    await add_verified_address(guardian.id, Channel.LINE, ADDRESSES[1], limit=3)
    await add_verified_address(guardian.id, Channel.TELEGRAM, ADDRESSES[2], limit=3)
    await StaffAccount.create(
        login_id="kato", role=StaffRole.STAFF, password_hash="x", totp_secret=TOTP
    )
    gate = await Gate.create(site=site, name="正門", key_hash="0" * 64)
    now = datetime.now(UTC)
    passage = await Passage.create(
        event_id=uuid4(), gate=gate, site=site, pupil=pupil, tag_number=TAG,
        tag_number_index="x", seen_at=now, outcome=PassageOutcome.NOTIFIED,
    )
    await Photo.create(
        passage=passage, token="t", jpeg=PHOTO, size=len(PHOTO), taken_at=now,
        expires_at=now + timedelta(days=30),
    )
    assert (await Photo.get(passage=passage)).jpeg == PHOTO  # and it still reads back


def _assert_absent(raw: bytes) -> None:
    for text in NAMES + ADDRESSES + [TAG]:
        for encoding in ("utf-8", "utf-16-le"):
            assert text.encode(encoding) not in raw, f"{text!r} found in plain text"
    assert b"MIMAMORI-PHOTO-SENTINEL" not in raw
    assert TOTP.encode() not in raw


async def test_names_addresses_tags_and_photos_are_sealed_on_disk(
    database_url: str, tmp_path: Path
) -> None:
    await _write_known_values()
    await close_database()  # everything flushed to the file or the server
    if database_url.startswith("sqlite"):
        db_file = Path(urlsplit(database_url).path)
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert len(raw) > 50_000
    else:
        assert shutil.which("pg_dump"), "pg_dump is needed (scripts/bootstrap --test installs it)"
        dump = await asyncio.to_thread(
            subprocess.run,
            ["pg_dump", "--no-owner", "-d", database_url.replace("postgres://", "postgresql://", 1)],
            capture_output=True, check=True, env={**os.environ},
        )
        raw = dump.stdout
        assert b"CREATE TABLE public.guardian" in raw
    _assert_absent(raw)
