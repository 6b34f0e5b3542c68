"""Short-lived links to one passage's still, for a chat that shows images only by URL (LINE).

LINE's servers, and LINE's apps when the chat is next opened, fetch the image from a public
HTTPS URL. The link itself is the credential: a token sealed with the keyring's current key
(AES-GCM, so it is opaque and any change to it fails) that names the delivery and the moment
the link stops working. No new rows: the delivery says which guardian and which passage. Every
fetch is recorded as a view of the photo, made by LINE for the delivery's guardian. A key that
sealed links must stay in the keyring until they end (``links_end``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import struct
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from core import sealing
from core.models import Channel, Delivery, Guardian, NoticeKind, Photo, PhotoView

PREVIEW_MAX_BYTES = 1024 * 1024  # LINE's limit for previewImageUrl
PREVIEW_SIDE = 1024
_CONTEXT = "chat-photo-link"
_LAYOUT = struct.Struct(">QQ")  # delivery id, end of the link (Unix seconds)


def chat_photo_token(delivery_id: int, expires_at: datetime) -> str:
    plain = _LAYOUT.pack(delivery_id, int(expires_at.timestamp()))
    return base64.urlsafe_b64encode(sealing.installed().seal(plain, _CONTEXT)).rstrip(b"=").decode("ascii")


def _read(token: str) -> tuple[int, datetime] | None:
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        delivery_id, until = _LAYOUT.unpack(sealing.installed().unseal(sealed, _CONTEXT))
    except (binascii.Error, ValueError, struct.error, sealing.SealingError):
        return None
    return delivery_id, datetime.fromtimestamp(until, UTC)


async def links_end(replaced_at: datetime, lifetime: timedelta, *, now: datetime | None = None) -> datetime | None:
    """When the last link sealed before ``replaced_at`` (with a key no longer current) stops
    working, if one sent may still work; None if none can."""
    now = now or datetime.now(UTC)
    end = replaced_at + lifetime
    if end <= now:
        return None
    # a link is made at each attempt to send, between the first try and the send
    sent = await Delivery.filter(
        channel=Channel.LINE, kind=NoticeKind.PASSAGE, first_tried_at__lt=replaced_at, sent_at__gt=now - lifetime
    ).exists()
    return end if sent else None


async def open_chat_photo(token: str, *, now: datetime | None = None) -> Photo | None:
    """The still behind a live link, with the fetch recorded; None for anything else.

    A guardian who has since withdrawn the opt-in is not shown it either. Bad tokens are not
    audited: anyone on the internet may send them, and the audit log is serialised.
    """
    now = now or datetime.now(UTC)
    read = _read(token)
    if read is None or read[1] <= now:
        return None
    delivery = await Delivery.get_or_none(id=read[0], channel=Channel.LINE, kind=NoticeKind.PASSAGE).only(
        "id", "guardian_id", "passage_id"
    )
    if delivery is None or delivery.passage_id is None or delivery.guardian_id is None:
        return None
    if not await Guardian.filter(id=delivery.guardian_id, photos_in_chat=True).exists():
        return None
    photo = await Photo.get_or_none(passage_id=delivery.passage_id, expires_at__gt=now)
    if photo is not None:
        await PhotoView.create(photo=photo, guardian_id=delivery.guardian_id, via=Channel.LINE.value)
    return photo


async def preview_of(jpeg: bytes) -> bytes | None:
    """The still itself when LINE accepts it as a preview, else a smaller copy (None: unreadable)."""
    if len(jpeg) <= PREVIEW_MAX_BYTES:
        return jpeg
    return await asyncio.to_thread(_downscale_in_thread, jpeg)


def _downscale_in_thread(jpeg: bytes) -> bytes | None:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, width = image.shape[:2]
    scale = min(1.0, PREVIEW_SIDE / max(height, width))
    if scale < 1.0:
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    for quality in (80, 60, 40):
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(encoded) <= PREVIEW_MAX_BYTES:
            return encoded.tobytes()
    return None
