"""The web push transport: one notice, encrypted for one browser (RFC 8291), to its push service
(RFC 8030), signed with the VAPID key the browser subscribed with (RFC 8292).

The push service's answer: 201 sent; 404/410 the subscription is gone (the browser unsubscribed
or the site data was cleared): the address is inactive and the guardian's other address told, as
for a blocked chat; 413 cannot happen (payloads are trimmed); 429 and 5xx retry, after
``Retry-After`` when given; network trouble retries. Encrypting one message (ECDH, HKDF, AES-GCM)
costs about 0.2 ms of CPU (bench/webpush_broadcast.py): done on the event loop, it holds it
less than a thread hand-off would.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import http_ece
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from core.channels.webpush import Subscription
from core.config import WebPushSettings
from core.delivery.transport import Outcome, Outgoing, PermanentFailure, Sent, TemporaryFailure
from core.models import Channel, NoticeKind
from webpush.payload import MAX_PLAINTEXT, payload, topic
from webpush.vapid import Tokens

log = logging.getLogger(__name__)

HIGH = {NoticeKind.PASSAGE, NoticeKind.BROADCAST, NoticeKind.NOT_SEEN}  # a child's whereabouts, an alert
_GONE = (404, 410)


def encrypt(body: bytes, subscription: Subscription) -> bytes:
    """RFC 8291's aes128gcm: a fresh ECDH key and salt for every message."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    encrypted: bytes = http_ece.encrypt(
        body,
        salt=os.urandom(16),
        private_key=ephemeral,
        dh=subscription.p256dh,
        auth_secret=subscription.auth,
        version="aes128gcm",
    )
    return encrypted


class WebPushTransport:
    channel = Channel.WEBPUSH

    def __init__(
        self, settings: WebPushSettings, client: httpx.AsyncClient | None = None, tokens: Tokens | None = None
    ) -> None:
        assert settings.subject is not None  # the channel is on only when it is set
        self._settings = settings
        self._tokens = tokens or Tokens(settings.subject)
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds, limits=limits)
        self.concurrency = settings.concurrency
        self.rate_per_second = settings.rate_per_second

    async def send(self, message: Outgoing) -> Outcome:
        try:
            subscription = Subscription.parse(message.address)
        except ValueError:
            return PermanentFailure("not a push subscription", address_verdict="failing")
        ttl = self._ttl(message)
        if ttl <= 0:
            return PermanentFailure("expired before it could be pushed")
        body = payload(message)
        if len(body) > MAX_PLAINTEXT:
            return PermanentFailure("the notice is too long for a push")
        try:
            authorization = self._tokens.authorization(subscription.origin, subscription.vapid_key)
        except LookupError:
            return PermanentFailure("its web push key is no longer in the keyring", address_verdict="failing")
        headers = {
            "Authorization": authorization,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": "high" if message.kind in HIGH else "normal",
            "Topic": topic(message.idempotency_key),
        }
        try:
            response = await self._client.post(
                subscription.endpoint, content=encrypt(body, subscription), headers=headers
            )
        except httpx.HTTPError as exc:
            return TemporaryFailure(f"push service unreachable ({type(exc).__name__})")
        return _outcome(response)

    def _ttl(self, message: Outgoing) -> int:
        """Seconds a push service keeps the message for an offline device: never past the notice's
        expiry (a passage notice an hour late is noise)."""
        longest = self._settings.broadcast_ttl_hours * 3600
        if message.expires_at is None:
            return longest
        return min(longest, int((message.expires_at - datetime.now(UTC)).total_seconds()))

    async def close(self) -> None:
        await self._client.aclose()


def _outcome(response: httpx.Response) -> Outcome:
    status = response.status_code
    if status in (200, 201, 202):
        return Sent()
    if status in _GONE:
        return PermanentFailure(f"the browser's subscription is gone ({status})", address_verdict="blocked")
    if status == 429:
        return TemporaryFailure("push service rate limit (429)", retry_after=_retry_after(response), throttled=True)
    if status >= 500:
        return TemporaryFailure(f"push service not available ({status})", retry_after=_retry_after(response))
    if status == 413:
        return PermanentFailure("the push service found the message too large (413)")
    # 400, 401, 403: a malformed subscription or a key it was not made with
    return PermanentFailure(f"the push service refused ({status})", address_verdict="failing")


def _retry_after(response: httpx.Response) -> float | None:
    """RFC 9110: seconds, or an HTTP date."""
    given = response.headers.get("Retry-After")
    if not given:
        return None
    if given.strip().isdigit():
        return float(given)
    try:
        return max(0.0, (parsedate_to_datetime(given) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
