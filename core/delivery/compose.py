"""From claimed outbox rows to messages ready for a transport.

Everything a batch needs (addresses, guardians' languages, broadcasts, opted-in photos) is
loaded in a few queries per batch. A broadcast is rendered once per (broadcast, channel,
language) with a placeholder acknowledgement token, which is swapped for each delivery's own;
rendering 100,000 copies one by one would cost seconds of CPU for identical text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from core import unsubscribe
from core.channels import Still, spec
from core.channels.line_photos import chat_photo_token
from core.config import Settings
from core.delivery.broadcast_message import PLACEHOLDER_TOKEN, broadcast_notice
from core.delivery.render import Action, RenderedNotice, render, sender_name
from core.delivery.transport import Outgoing, PhotoLink
from core.i18n.languages import language_or_default
from core.models import (
    AddressStatus,
    Broadcast,
    Channel,
    ContactAddress,
    Delivery,
    Guardian,
    Language,
    NoticeKind,
    Photo,
    StaffAccount,
    StaffAddress,
)

log = logging.getLogger(__name__)

_RENDER_CACHE_LIMIT = 256


@dataclass(frozen=True)
class Undeliverable:
    """A claimed row that cannot be sent at all (its address is gone, failing or blocked)."""

    reason: str


def payload_context(kind: NoticeKind, payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    portal = settings.portal.public_url.rstrip("/")
    context = {"portal_url": portal, **payload}
    if kind is NoticeKind.PASSAGE:
        token = payload.get("photo_token")
        context["photo_url"] = f"{portal}/photos/{token}" if token else None
    return context


class NoticeComposer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._broadcasts: dict[int, Broadcast] = {}
        self._rendered: dict[tuple[int, Channel, Language], RenderedNotice] = {}
        self._said_links_need_https = False

    async def compose(self, rows: list[Delivery]) -> list[tuple[Delivery, Outgoing | Undeliverable]]:
        addresses = await _by_id(
            ContactAddress,
            {r.address_id for r in rows if r.address_id},
            ("id", "guardian_id", "status", "value", "broadcasts_stopped_at"),
        )
        staff_addresses = await _by_id(
            StaffAddress, {r.staff_address_id for r in rows if r.staff_address_id}, ("id", "staff_id", "value")
        )
        guardians = await _by_id(
            Guardian, {a.guardian_id for a in addresses.values()}, ("id", "language", "photos_in_chat")
        )
        staff = await _by_id(StaffAccount, {a.staff_id for a in staff_addresses.values()}, ("id", "language"))
        await self._load_broadcasts({r.broadcast_id for r in rows if r.broadcast_id})
        photos = await self._opted_in_photos(rows, addresses, guardians)

        composed: list[tuple[Delivery, Outgoing | Undeliverable]] = []
        for row in rows:
            answer = _ANSWERS.get(row.kind)
            if answer is not None:  # addressed by its payload, not by a registered address
                composed.append((row, answer(row)))
                continue
            address = addresses.get(row.address_id) if row.address_id else None
            staff_address = staff_addresses.get(row.staff_address_id) if row.staff_address_id else None
            if address is None and staff_address is None:
                composed.append((row, Undeliverable("the address was removed")))
                continue
            if address is not None and address.status in (AddressStatus.FAILING, AddressStatus.INACTIVE):
                composed.append((row, Undeliverable(f"the address is {address.status.value}")))
                continue
            if address is not None and row.kind is NoticeKind.BROADCAST and address.broadcasts_stopped_at:
                composed.append((row, Undeliverable(unsubscribe.STOPPED)))  # stopped after the fan-out
                continue
            if address is not None:
                language = guardians[address.guardian_id].language if address.guardian_id in guardians else Language.JA
                value = address.value
            else:
                assert staff_address is not None  # a row with neither was set aside above
                owner = staff.get(staff_address.staff_id)
                language = owner.language if owner else Language.JA
                value = staff_address.value
            notice = self._notice(row, language)
            photo = photos.get(row.id)
            composed.append(
                (
                    row,
                    Outgoing(
                        delivery_id=row.id,
                        idempotency_key=row.idempotency_key,
                        kind=row.kind,
                        address=value,
                        notice=notice,
                        photo=photo if isinstance(photo, bytes) else None,
                        photo_link=photo if isinstance(photo, PhotoLink) else None,
                        unsubscribe=(
                            unsubscribe.link(address.id, self._settings.portal.public_url)
                            if address is not None and row.kind is NoticeKind.BROADCAST
                            else None
                        ),
                        expires_at=row.expires_at,
                    ),
                )
            )
        return composed

    def _notice(self, row: Delivery, language: Language) -> RenderedNotice:
        broadcast = self._broadcasts.get(row.broadcast_id) if row.broadcast_id is not None else None
        if row.kind is NoticeKind.BROADCAST and broadcast is not None:
            return self._broadcast_notice(row, broadcast, language)
        payload = json.loads(row.payload) if row.payload else {}
        return render(row.kind, row.channel, language, payload_context(row.kind, payload, self._settings))

    def _broadcast_notice(self, row: Delivery, broadcast: Broadcast, language: Language) -> RenderedNotice:
        key = (broadcast.id, row.channel, language)
        template = self._rendered.get(key)
        if template is None:
            if len(self._rendered) >= _RENDER_CACHE_LIMIT:
                self._rendered.clear()
            template = self._rendered[key] = broadcast_notice(broadcast, row.channel, language, self._settings)
        return with_token(template, row.ack_token)

    async def _load_broadcasts(self, ids: set[int]) -> None:
        missing = ids - self._broadcasts.keys()
        if missing:
            if len(self._broadcasts) > _RENDER_CACHE_LIMIT:
                self._broadcasts.clear()
            self._broadcasts.update({b.id: b for b in await Broadcast.filter(id__in=missing)})

    async def _opted_in_photos(
        self, rows: list[Delivery], addresses: dict[int, SimpleNamespace], guardians: dict[int, SimpleNamespace]
    ) -> dict[int, bytes | PhotoLink]:
        """The still of each opted-in passage notice, as its channel carries one: bytes, or a link the
        chat's servers fetch from the portal (LINE)."""
        wanted = {
            row.id: (row.passage_id, carried)
            for row in rows
            if row.kind is NoticeKind.PASSAGE
            and (carried := spec(row.channel).still) is not Still.NONE
            and row.passage_id
            and row.address_id in addresses
            and getattr(guardians.get(addresses[row.address_id].guardian_id), "photos_in_chat", False)
        }
        if any(carried is Still.LINK for _, carried in wanted.values()) and not self._links_possible():
            wanted = {d: (p, carried) for d, (p, carried) in wanted.items() if carried is not Still.LINK}
        if not wanted:
            return {}
        now = datetime.now(UTC)
        link_end = now + timedelta(minutes=self._settings.line.photo_link_minutes)
        by_bytes = {p for p, carried in wanted.values() if carried is Still.BYTES}
        by_link = {p for p, carried in wanted.values() if carried is Still.LINK}
        jpegs = {p.passage_id: p.jpeg for p in await Photo.filter(passage_id__in=by_bytes)} if by_bytes else {}
        ends = (
            {
                p.passage_id: p.expires_at
                for p in await Photo.filter(passage_id__in=by_link, expires_at__gt=now).only(
                    "id", "passage_id", "expires_at"
                )
            }
            if by_link
            else {}
        )
        found: dict[int, bytes | PhotoLink] = {}
        for delivery, (passage, carried) in wanted.items():
            if carried is Still.LINK and passage in ends:
                found[delivery] = self._photo_link(delivery, until=min(ends[passage], link_end))
            elif carried is Still.BYTES and passage in jpegs:
                found[delivery] = jpegs[passage]
        return found

    def _photo_link(self, delivery_id: int, *, until: datetime) -> PhotoLink:
        url = f"{self._settings.portal.public_url.rstrip('/')}/chat-photos/{chat_photo_token(delivery_id, until)}"
        return PhotoLink(url=url, preview_url=f"{url}/preview")

    def _links_possible(self) -> bool:
        if urlsplit(self._settings.portal.public_url).scheme == "https":
            return True
        if not self._said_links_need_https:
            self._said_links_need_https = True
            log.warning(
                "portal.public_url is %s, not https: LINE shows images only from https URLs, so guardians "
                "who opted in to photos get their LINE passage notices without the still",
                self._settings.portal.public_url,
            )
        return False


def _reply(row: Delivery) -> Outgoing:
    """A queued bot answer (core.delivery.outbox.enqueue_reply): its chat and text are in the payload."""
    payload = json.loads(row.payload or "{}")
    notice = RenderedNotice(
        subject="",
        text=payload["text"],
        html=None,
        actions=tuple(Action(label, postback=postback) for label, postback in payload["buttons"]),
    )
    return Outgoing(
        delivery_id=row.id, idempotency_key=row.idempotency_key, kind=row.kind, address=payload["chat"], notice=notice
    )


def _mail_answer(row: Delivery) -> Outgoing:
    """A queued answer to an incoming mail (core.delivery.outbox.enqueue_mail_answer): all in the payload."""
    payload = json.loads(row.payload or "{}")
    return Outgoing(
        delivery_id=row.id,
        idempotency_key=row.idempotency_key,
        kind=row.kind,
        address=payload["to"],
        notice=RenderedNotice(
            subject=payload["subject"],
            text=payload["text"],
            html=None,
            sender=sender_name(language_or_default(payload.get("language"))),
        ),
        in_reply_to=payload.get("in_reply_to"),
    )


_ANSWERS = {NoticeKind.REPLY: _reply, NoticeKind.MAIL_ANSWER: _mail_answer}


def with_token(notice: RenderedNotice, token: str | None) -> RenderedNotice:
    if PLACEHOLDER_TOKEN not in notice.text and not notice.actions:
        return notice

    def swap(text: str) -> str:
        return text.replace(PLACEHOLDER_TOKEN, token) if token else text

    return replace(
        notice,
        subject=swap(notice.subject),
        text=swap(notice.text),
        html=swap(notice.html) if notice.html else None,
        actions=tuple(
            Action(a.label, swap(a.url) if a.url else None, swap(a.postback) if a.postback else None)
            for a in notice.actions
        ),
    )


async def _by_id(model: Any, ids: set[int], fields: tuple[str, ...]) -> dict[int, SimpleNamespace]:
    """Just ``fields`` of each row (decrypted, as enums): a fifth of the cost of model objects."""
    if not ids:
        return {}
    return {row["id"]: SimpleNamespace(**row) for row in await model.filter(id__in=ids).values(*fields)}
