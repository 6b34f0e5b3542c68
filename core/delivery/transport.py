"""What a channel implements: send one rendered notice to one address, say how it went.

Channel-specific errors are translated at the edge (in mail/, bot/) into these outcomes, with a
reason a person can read: staff and the support desk see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from core.delivery.render import RenderedNotice
from core.models import Channel, NoticeKind


@dataclass(frozen=True)
class PhotoLink:
    """Where a chat that shows images only by URL (LINE) fetches the still and its preview."""

    url: str
    preview_url: str


@dataclass(frozen=True)
class UnsubscribeLink:
    """How the recipient of a broadcast stops broadcasts to this address (core.unsubscribe): the
    page a one-click POST goes to (RFC 8058), and the token it names, for a mailto as well."""

    url: str
    token: str


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    idempotency_key: str
    kind: NoticeKind
    address: str  # unsealed: a mail address, a Telegram chat id, a LINE user id
    notice: RenderedNotice
    photo: bytes | None = None  # JPEG, only for a chat whose guardian opted in
    photo_link: PhotoLink | None = None  # instead of ``photo`` on LINE
    in_reply_to: str | None = None  # a mail answer: the Message-ID of the mail it answers
    unsubscribe: UnsubscribeLink | None = None  # a broadcast: a channel that can offer it does (mail)
    expires_at: datetime | None = None  # when the notice is no use any more (a push's TTL ends there)


@dataclass(frozen=True)
class Sent:
    provider_id: str | None = None


@dataclass(frozen=True)
class TemporaryFailure:
    reason: str
    retry_after: float | None = None  # seconds, when the peer said so (HTTP 429 Retry-After)
    # the peer asks us to send more slowly (SMTP 421, a 4.7.x rate limit): the address's lane backs
    # off (core.delivery.pacing.Pace), not the address or the channel
    throttled: bool = False


@dataclass(frozen=True)
class PermanentFailure:
    reason: str
    # "failing": counts toward marking the address failing (e.g. SMTP 550 no such user).
    # "blocked": the person blocked us (Telegram/LINE 403): inactive now, other address told once.
    address_verdict: Literal["failing", "blocked"] | None = None


Outcome = Sent | TemporaryFailure | PermanentFailure


class Transport(Protocol):
    channel: Channel
    concurrency: int  # messages in flight at once
    rate_per_second: float  # 0: unlimited

    async def send(self, message: Outgoing) -> Outcome: ...

    async def close(self) -> None: ...


@runtime_checkable
class MulticastTransport(Transport, Protocol):
    """A channel that can send one identical notice to many addresses in one call (LINE)."""

    multicast_limit: int

    async def multicast(self, messages: list[Outgoing]) -> list[Outcome]: ...
