"""A broadcast before it is sent: the draft, its preview as each channel shows it, and confirm or cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from core import actors, audit
from core.broadcasts.fanout import addresses_of, chosen_addresses
from core.broadcasts.helpers import _get
from core.broadcasts.scope import Scope, check_scope_allowed, recipients
from core.channels.line_quota import LineQuota
from core.config import Settings
from core.delivery.broadcast_message import broadcast_context
from core.delivery.render import RenderedNotice, render
from core.errors import UserError
from core.models import Broadcast, BroadcastCategory, BroadcastStatus, Channel, Language, NoticeKind, StaffAccount
from core.text import clean_free_text

TITLE_LIMIT = 120
BODY_LIMIT = 2000


async def create_draft(
    *,
    author: StaffAccount | None,
    scope: Scope,
    category: BroadcastCategory,
    title: str,
    body: str,
    ack_requested: bool,
    actor: str | None = None,
) -> Broadcast:
    title, body = " ".join(clean_free_text(title).split()), clean_free_text(body).strip()
    if not title or not body:
        raise UserError("a broadcast needs a title and a body")
    if len(title) > TITLE_LIMIT or len(body) > BODY_LIMIT:
        raise UserError(f"the title is at most {TITLE_LIMIT} characters and the body {BODY_LIMIT}")
    if author is not None:
        await check_scope_allowed(author, scope)
    async with in_transaction():
        broadcast = await Broadcast.create(
            author=author,
            scope=scope.to_json(),
            category=category,
            title=title,
            body=body,
            ack_requested=ack_requested,
        )
        await audit.record(
            actor or actors.staff_or_system(author),
            "broadcast.draft",
            target=f"broadcast:{broadcast.id}",
            details={"scope": scope.label(), "category": category.value, "ack": ack_requested},
        )
    return broadcast


@dataclass(frozen=True)
class BroadcastPreview:
    broadcast: Broadcast
    scope_label: str
    recipients: int
    addresses_by_channel: dict[Channel, int]
    samples: dict[Channel, RenderedNotice]
    line_quota: LineQuota | None = None

    @property
    def line_messages(self) -> int:
        return self.addresses_by_channel.get(Channel.LINE, 0)

    @property
    def line_remaining_after(self) -> int | None:
        if self.line_quota is None or self.line_quota.limit is None:
            return None
        return self.line_quota.limit - self.line_quota.used - self.line_messages


async def preview(
    broadcast_id: int,
    settings: Settings,
    *,
    line_quota: LineQuota | None = None,
    language: Language = Language.JA,
) -> BroadcastPreview:
    """Who it will reach and exactly how each channel will show it."""
    broadcast = await _get(broadcast_id)
    scope = Scope.from_json(broadcast.scope)
    guardian_ids = await recipients(scope)
    by_channel: dict[Channel, int] = {}
    for start in range(0, len(guardian_ids), 5000):
        chosen = chosen_addresses(await addresses_of(guardian_ids[start : start + 5000]), broadcast)
        for recipient in chosen:
            by_channel[recipient.channel] = by_channel.get(recipient.channel, 0) + 1
    samples = {
        channel: render(
            NoticeKind.BROADCAST,
            channel,
            language,
            broadcast_context(broadcast, settings, ack_token="PREVIEW", channel=channel),
        )
        for channel in Channel
    }
    return BroadcastPreview(broadcast, scope.label(), len(guardian_ids), by_channel, samples, line_quota)


async def confirm(broadcast_id: int, *, by: StaffAccount | None, actor: str | None = None) -> Broadcast:
    """Confirm a draft: the worker fans it out at once (see ``continue_fanouts``)."""
    async with in_transaction():
        broadcast = await _get(broadcast_id, for_update=True)
        if broadcast.status is not BroadcastStatus.DRAFT:
            raise UserError(f"broadcast {broadcast_id} is {broadcast.status.value}, not a draft")
        if by is not None:
            await check_scope_allowed(by, Scope.from_json(broadcast.scope))
        broadcast.status = BroadcastStatus.CONFIRMED
        broadcast.confirmed_at = datetime.now(UTC)
        broadcast.confirmed_by = by
        await broadcast.save(update_fields=["status", "confirmed_at", "confirmed_by_id"])
        await audit.record(actor or actors.staff_or_system(by), "broadcast.confirm", target=f"broadcast:{broadcast.id}")
    return broadcast


async def cancel(broadcast_id: int, *, by: StaffAccount | None, actor: str | None = None) -> Broadcast:
    async with in_transaction():
        broadcast = await _get(broadcast_id, for_update=True)
        if broadcast.status is not BroadcastStatus.DRAFT:
            raise UserError(f"broadcast {broadcast_id} is {broadcast.status.value}: only a draft can be cancelled")
        broadcast.status = BroadcastStatus.CANCELLED
        await broadcast.save(update_fields=["status"])
        await audit.record(actor or actors.staff_or_system(by), "broadcast.cancel", target=f"broadcast:{broadcast.id}")
    return broadcast
