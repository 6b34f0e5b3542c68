"""Recording how each send went: sent, retry later, failed, expired — and what it means for the
address (failing after repeated permanent failures; inactive at once when the person blocked us).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import metrics
from core.addresses import address_index
from core.config import DeliverySettings
from core.db import update_rows
from core.delivery.compose import Undeliverable
from core.delivery.outbox import enqueue_to_other_addresses
from core.delivery.reasons import at_rest
from core.delivery.retry import next_attempt
from core.delivery.transport import Outcome, PermanentFailure, Sent, TemporaryFailure
from core.models import AddressStatus, Channel, ContactAddress, Delivery, DeliveryStatus, NoticeKind, Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expired:
    """Claimed after its expiry: recorded as expired, never sent late."""

    reason: str = "expired before it could be delivered"


Result = Outcome | Undeliverable | Expired


@dataclass(frozen=True)
class Recorded:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0


async def record_outcomes(
    results: list[tuple[Delivery, Result]], settings: DeliverySettings, now: datetime
) -> Recorded:
    """Write a batch of outcomes in one transaction."""
    changed: list[Delivery] = []
    verdicts: list[tuple[int, PermanentFailure]] = []
    counts = {"sent": 0, "retrying": 0, "failed": 0, "expired": 0}
    by_lane: Counter[tuple[str, str, str]] = Counter()  # (channel, lane, metric result) for core.metrics
    sent_passages: list[Delivery] = []
    for row, result in results:
        row.lease_until = None
        if isinstance(result, Expired):
            row.status, row.last_error = DeliveryStatus.EXPIRED, result.reason
            counts["expired"] += 1
            by_lane[row.channel.value, row.lane, "expired"] += 1
        elif isinstance(result, Sent):
            row.status, row.sent_at, row.last_error = DeliveryStatus.SENT, now, None
            row.provider_message_id = (result.provider_id or "")[:255] or None
            counts["sent"] += 1
            by_lane[row.channel.value, row.lane, "sent"] += 1
            if row.kind is NoticeKind.PASSAGE and row.passage_id:
                sent_passages.append(row)
        elif isinstance(result, TemporaryFailure):
            retry_at = next_attempt(row.attempts, now, settings, retry_after=result.retry_after)
            row.last_error = at_rest(result.reason)
            if row.expires_at is not None and retry_at > row.expires_at:
                row.status = DeliveryStatus.EXPIRED
                counts["expired"] += 1
                by_lane[row.channel.value, row.lane, "expired"] += 1
            else:
                row.status, row.next_attempt_at = DeliveryStatus.QUEUED, retry_at
                counts["retrying"] += 1
                by_lane[row.channel.value, row.lane, "retry"] += 1
        else:
            row.status, row.last_error = DeliveryStatus.FAILED, at_rest(result.reason)
            counts["failed"] += 1
            by_lane[row.channel.value, row.lane, "failed"] += 1
            if isinstance(result, PermanentFailure) and result.address_verdict and row.address_id:
                verdicts.append((row.address_id, result))
        changed.append(row)
    async with in_transaction():
        if changed:
            await update_rows(
                Delivery,
                changed,
                ["status", "sent_at", "provider_message_id", "last_error", "lease_until", "next_attempt_at"],
            )
        for address_id, failure in verdicts:
            await _judge_address(address_id, failure, settings)
    metrics.outcomes_recorded(by_lane)
    if sent_passages:
        await _passage_latencies(sent_passages, now)
    return Recorded(**counts)


async def _passage_latencies(rows: list[Delivery], sent_at: datetime) -> None:
    """Detection (the gate's ``seen_at``) to sent, for the latency histogram: one query for the
    batch, and only passage notices need it. Metrics never fail a recorded batch."""
    try:
        seen = dict(await Passage.filter(id__in={r.passage_id for r in rows}).values_list("id", "seen_at"))
    except Exception:
        log.warning("passage notice latencies of a batch left out of the metrics", exc_info=True)
        return
    by_channel: dict[str, list[float]] = {}
    for row in rows:
        if (at := seen.get(row.passage_id)) is not None:
            by_channel.setdefault(row.channel.value, []).append((sent_at - at).total_seconds())
    for channel, latencies in by_channel.items():
        metrics.passage_notices_sent(channel, latencies)


async def record_bounce(delivery_id: int, reason: str, settings: DeliverySettings) -> Delivery | None:
    """A permanent failure reported after the send (a bounce): the delivery is failed and its
    address counts it toward failing. None when the delivery is unknown or was failed already,
    so a bounce read twice counts once."""
    async with in_transaction():
        row = await Delivery.filter(id=delivery_id).select_for_update().first()
        if row is None or row.status is DeliveryStatus.FAILED:
            return None
        row.status, row.last_error = DeliveryStatus.FAILED, at_rest(f"bounced: {reason}")
        await row.save(update_fields=["status", "last_error"])
        if row.address_id:
            await _judge_address(row.address_id, PermanentFailure(reason, address_verdict="failing"), settings)
    return row


async def _judge_address(address_id: int, failure: PermanentFailure, settings: DeliverySettings) -> None:
    address = await ContactAddress.get_or_none(id=address_id)
    if address is None or address.status is AddressStatus.INACTIVE:
        return
    if failure.address_verdict == "blocked":
        await _mark_blocked(address, failure.reason)
        return
    await ContactAddress.filter(id=address.id).update(
        failure_count=F("failure_count") + 1, last_failure=at_rest(failure.reason)
    )
    await address.refresh_from_db(fields=["failure_count"])
    if address.failure_count >= settings.failing_after and address.status is AddressStatus.ACTIVE:
        address.status = AddressStatus.FAILING
        await address.save(update_fields=["status"])
        log.info("address %s is failing after %s permanent failures", address.id, address.failure_count)


async def chat_blocked(channel: Channel, value: str, reason: str) -> int:
    """The person blocked us outside a send (a LINE unfollow): as a 403 would have told us."""
    blocked = 0
    for address in await ContactAddress.filter(channel=channel, value_index=address_index(channel, value)).exclude(
        status=AddressStatus.INACTIVE
    ):
        async with in_transaction():
            await _mark_blocked(address, reason)
        blocked += 1
    return blocked


async def _mark_blocked(address: ContactAddress, reason: str) -> None:
    address.status = AddressStatus.INACTIVE
    address.last_failure = at_rest(reason)
    await address.save(update_fields=["status", "last_failure"])
    log.info("address %s blocked us: %s", address.id, reason)
    await enqueue_to_other_addresses(
        address,
        kind=NoticeKind.ADDRESS_INACTIVE,
        fact=f"address-inactive:{address.id}",
        payload={"inactive_channel": address.channel.value},
    )
