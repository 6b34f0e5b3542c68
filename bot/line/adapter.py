"""The conversation spoken on LINE (line-bot-sdk v3): the /hooks/line webhook.

The webhook checks ``X-Line-Signature`` (HMAC-SHA256 of the raw body with the channel secret,
compared in constant time) before it reads anything, answers 400 to a body that is no webhook,
and handles each event once by its ``webhookEventId`` however often LINE redelivers it.
Replies go by reply token (free of the monthly quota); guardian commands are quick replies.
When the Messaging API is away, the webhook still answers 200 and the reply waits in the outbox.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from functools import partial

from aiohttp import ClientError
from fastapi import APIRouter, Request, Response
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    ButtonsTemplate,
    Configuration,
    Message,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TemplateMessage,
    TextMessage,
)
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import Event, FollowEvent, MessageEvent, PostbackEvent, TextMessageContent, UnfollowEvent

from bot.conversation import Conversation, Incoming, Reply, menu
from bot.deferred import answer_later
from bot.events import handle_once
from core.channels.line_quota import LineQuota
from core.config import LineSettings
from core.delivery.outcomes import chat_blocked
from core.models import Channel

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Line-Signature"
TEXT_LIMIT = 5000
TEMPLATE_ACTIONS = 4  # a buttons template's most
BUTTONS_TEXT_LIMIT = 160  # a buttons template's text without a picture
LINE_AWAY = (ClientError, asyncio.TimeoutError, OSError)  # no answer from the Messaging API


def line_api_client(settings: LineSettings) -> AsyncApiClient:
    """An API client for ``settings.api_base`` (LINE, or a fake in tests)."""
    if settings.access_token is None:
        raise ValueError("line.access_token is not set")
    configuration = Configuration(
        host=settings.api_base.rstrip("/"), access_token=settings.access_token.get_secret_value()
    )
    configuration.connection_pool_maxsize = settings.concurrency
    return AsyncApiClient(configuration)


def signature_ok(secret: str, body: bytes, signature: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.encode())


def line_messages(reply: Reply) -> list[Message]:
    text = TextMessage(text=reply.text[:TEXT_LIMIT])
    if reply.menu:
        text.quick_reply = QuickReply(
            items=[
                QuickReplyItem(action=MessageAction(label=item.label, text=item.word)) for item in menu(reply.language)
            ]
        )
    if not reply.buttons:
        return [text]
    if len(reply.buttons) > TEMPLATE_ACTIONS:  # a report's reasons or times: quick replies hold 13
        text.quick_reply = QuickReply(
            items=[
                QuickReplyItem(action=PostbackAction(label=b.label[:20], data=b.postback, display_text=b.label))
                for b in reply.buttons
            ]
        )
        return [text]
    if not reply.prompt and len(reply.text) <= BUTTONS_TEXT_LIMIT:
        return [_buttons(reply, reply.text)]  # the question is the template's own text: said once
    return [text, _buttons(reply, reply.prompt or reply.text[:BUTTONS_TEXT_LIMIT])]


def _buttons(reply: Reply, text: str) -> TemplateMessage:
    return TemplateMessage(
        alt_text=" / ".join(b.label for b in reply.buttons),
        template=ButtonsTemplate(
            text=text,
            actions=[PostbackAction(label=b.label[:20], data=b.postback, display_text=b.label) for b in reply.buttons],
        ),
    )


async def read_quota(api: AsyncMessagingApi, *, timeout: float = 10) -> LineQuota | None:
    """This month's message quota and use, or None when LINE cannot tell us now."""
    try:
        quota = await api.get_message_quota(_request_timeout=timeout)
        used = await api.get_message_quota_consumption(_request_timeout=timeout)
    except Exception as exc:  # the preview then shows no quota line: not worth failing over
        log.warning("could not read the LINE message quota: %s", exc)
        return None
    return LineQuota(limit=quota.value if quota.type == "limited" else None, used=used.total_usage)


async def quota_now(settings: LineSettings) -> LineQuota | None:
    """Read the quota with a client of its own (for a one-off command)."""
    client = line_api_client(settings)
    try:
        return await read_quota(AsyncMessagingApi(client), timeout=settings.timeout_seconds)
    finally:
        await client.close()


class LineDialogue:
    """Turns webhook events into conversation turns and replies."""

    def __init__(self, conversation: Conversation, api: AsyncMessagingApi, *, timeout: float = 30) -> None:
        self._conversation = conversation
        self._api = api
        self._timeout = timeout

    async def handle(self, event: Event) -> None:
        user = getattr(event.source, "user_id", None)
        if user is None:
            return  # a group or room without a user: nobody to register
        if isinstance(event, UnfollowEvent):  # blocked: as a 403 on Telegram
            await chat_blocked(Channel.LINE, user, "LINE: the guardian blocked the official account")
            return
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            incoming = Incoming(Channel.LINE, user, text=event.message.text)
        elif isinstance(event, PostbackEvent):
            incoming = Incoming(Channel.LINE, user, postback=event.postback.data)
        elif isinstance(event, FollowEvent):
            incoming = Incoming(Channel.LINE, user, text="ヘルプ")
        else:
            return
        reply = await self._conversation.respond(incoming)
        try:
            await self._api.reply_message(
                ReplyMessageRequest(reply_token=event.reply_token, messages=line_messages(reply)),
                _request_timeout=self._timeout,
            )
        except ApiException as exc:
            if exc.status is not None and exc.status >= 500:
                await answer_later(Channel.LINE, user, reply, exc)
            else:  # an expired reply token: the turn itself is done
                log.warning("LINE refused a reply: %s %s", exc.status, exc.body)
        except LINE_AWAY as exc:
            await answer_later(Channel.LINE, user, reply, exc)


def line_webhook(dialogue: LineDialogue, channel_secret: str) -> APIRouter:
    """``POST /hooks/line``: 401 without a good signature, 400 for a body that is no webhook."""
    router = APIRouter()
    parser = WebhookParser(channel_secret)

    @router.post("/hooks/line", include_in_schema=False)
    async def hook(request: Request) -> Response:
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature or not signature_ok(channel_secret, body, signature):
            return Response(status_code=401)
        try:
            events = parser.parse(body.decode("utf-8"), signature)
        except (ValueError, KeyError, TypeError, AttributeError):
            return Response(status_code=400)
        for event in events:
            event_id = getattr(event, "webhook_event_id", None)
            if event_id:
                await handle_once(Channel.LINE, event_id, partial(dialogue.handle, event))
            else:
                await dialogue.handle(event)
        return Response(status_code=200)

    return router
