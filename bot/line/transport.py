"""The LINE transport: push one notice, or multicast one identical broadcast to up to 500 users.

A passage notice to a guardian who opted in to photos carries the still as an image message whose
URL is a short-lived link to the portal (LINE fetches images itself; it takes no bytes).

Every call carries ``X-Line-Retry-Key``, a UUID derived from the deliveries' idempotency keys,
so a retry after a timeout can never send twice: LINE answers 409 to a key it already accepted,
which counts as sent. 429 backs off (the monthly quota exhausted is said plainly instead), 5xx
and network trouble retry, other refusals are permanent.
"""

from __future__ import annotations

import json
import uuid

from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    ButtonsTemplate,
    ImageMessage,
    Message,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    TemplateMessage,
    TextMessage,
    URIAction,
)

from bot.line.adapter import LINE_AWAY, TEMPLATE_ACTIONS, line_api_client
from core.config import LineSettings
from core.delivery.reasons import in_our_words
from core.delivery.render import RenderedNotice
from core.delivery.transport import Outcome, Outgoing, PermanentFailure, Sent, TemporaryFailure
from core.models import Channel

RETRY_KEY_NAMESPACE = uuid.UUID("6f1d3c52-8f0e-4a57-9d1e-3b8c2a9e7d10")
TEXT_LIMIT = 5000
BUTTONS_TEXT_LIMIT = 160
MONTHLY_LIMIT = "monthly limit"


def retry_key(*idempotency_keys: str) -> str:
    """The same deliveries always give the same key; different ones never collide."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, "\n".join(sorted(idempotency_keys))))


class LineTransport:
    channel = Channel.LINE

    def __init__(self, settings: LineSettings, client: AsyncApiClient | None = None) -> None:
        self._client = client or line_api_client(settings)
        self._api = AsyncMessagingApi(self._client)
        self._timeout = settings.timeout_seconds
        self.concurrency = settings.concurrency
        self.rate_per_second = settings.rate_per_second
        self.multicast_limit = settings.multicast_size

    async def send(self, message: Outgoing) -> Outcome:
        messages = notice_messages(message.notice)
        if message.photo_link is not None:  # after the text, before the buttons: 3 of the 5 a push may carry
            link = message.photo_link
            messages.insert(1, ImageMessage(original_content_url=link.url, preview_image_url=link.preview_url))
        request = PushMessageRequest(to=message.address, messages=messages)
        try:
            response = await self._api.push_message(
                request, x_line_retry_key=retry_key(message.idempotency_key), _request_timeout=self._timeout
            )
        except Exception as exc:
            return _classify(exc, about_recipient=True)
        sent = response.sent_messages or []
        return Sent(provider_id=sent[0].id if sent else None)

    async def multicast(self, messages: list[Outgoing]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(messages), self.multicast_limit):
            chunk = messages[start : start + self.multicast_limit]
            request = MulticastRequest(to=[m.address for m in chunk], messages=notice_messages(chunk[0].notice))
            try:
                await self._api.multicast(
                    request,
                    x_line_retry_key=retry_key(*(m.idempotency_key for m in chunk)),
                    _request_timeout=self._timeout,
                )
                outcome: Outcome = Sent()
            except Exception as exc:
                outcome = _classify(exc, about_recipient=False)
            outcomes += [outcome] * len(chunk)
        return outcomes

    async def close(self) -> None:
        await self._client.close()


def notice_messages(notice: RenderedNotice) -> list[Message]:
    """The text, then (when the notice has buttons) buttons templates of at most four: a link or a
    postback (a question's five choices take two)."""
    messages: list[Message] = [TextMessage(text=notice.chat_text()[:TEXT_LIMIT])]
    actions = [
        PostbackAction(label=a.label[:20], data=a.postback, display_text=a.label)
        if a.postback
        else URIAction(label=a.label[:20], uri=a.url)
        for a in notice.actions
        if a.postback or a.url
    ]
    for start in range(0, len(actions), TEMPLATE_ACTIONS):
        chunk = actions[start : start + TEMPLATE_ACTIONS]
        messages.append(
            TemplateMessage(
                alt_text=notice.subject[:400] or chunk[0].label,
                template=ButtonsTemplate(text=(notice.subject or chunk[0].label)[:BUTTONS_TEXT_LIMIT], actions=chunk),
            )
        )
    return messages


def _classify(exc: Exception, *, about_recipient: bool) -> Outcome:
    if isinstance(exc, LINE_AWAY):
        return TemporaryFailure(f"LINE unreachable ({type(exc).__name__})")
    if not isinstance(exc, ApiException):
        raise exc
    said = _message_of(exc)  # LINE's own words may quote a user id: only ours are kept
    if exc.status == 409:  # this retry key was accepted before: it went
        accepted = (exc.headers or {}).get("x-line-accepted-request-id")
        return Sent(provider_id=accepted)
    if exc.status == 429:
        if MONTHLY_LIMIT in said.lower():
            return PermanentFailure("LINE monthly message limit reached: no more LINE messages this month")
        retry_after = (exc.headers or {}).get("Retry-After")
        return TemporaryFailure("LINE rate limit (429)", retry_after=float(retry_after) if retry_after else None)
    if exc.status is not None and exc.status >= 500:
        return TemporaryFailure(f"LINE is not available ({exc.status})")
    if exc.status in (401, 403):  # our token or plan: fixed by staff, then the notice goes
        return TemporaryFailure(f"LINE refused our credentials ({exc.status})")
    words = in_our_words(said, _KNOWN, "the message was refused")
    return PermanentFailure(
        f"LINE refused: {words} ({exc.status})", address_verdict="failing" if about_recipient else None
    )


_KNOWN = {"'to'": "the LINE user id is not valid", "not found": "the LINE user does not exist"}


def _message_of(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or b"{}").get("message", "")) or str(exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)
