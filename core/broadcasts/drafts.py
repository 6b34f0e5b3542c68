"""A broadcast before it is sent: the draft (Japanese, with staff's translations), its preview as
each language and channel shows it, and confirm or cancel. A draft that would reach nobody is
refused when it is made, shown as refused in its preview, and refused at confirm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core import actors, audit
from core.broadcasts.fanout import addresses_of, chosen_addresses, escalates
from core.broadcasts.helpers import _get
from core.broadcasts.scope import Scope, check_scope_allowed, nobody_reason, recipients
from core.channels.line_quota import LineQuota
from core.config import Settings
from core.delivery.broadcast_message import broadcast_notice, translations
from core.delivery.compose import with_token
from core.delivery.render import RenderedNotice
from core.errors import UserError
from core.i18n import Message, _, _p
from core.i18n.languages import LANGUAGES, ORIGINAL
from core.i18n.messages import language_name
from core.models import (
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    Guardian,
    Language,
    StaffAccount,
)
from core.questions import ACKNOWLEDGEMENT, Question
from core.text import clean_free_text

TITLE_LIMIT = 120
BODY_LIMIT = 2000
PREVIEW_TOKEN = "PREVIEW"  # where each guardian's own acknowledgement token goes
STATUS_LABELS: dict[BroadcastStatus, Message] = {
    BroadcastStatus.DRAFT: _p("broadcast status", "draft"),
    BroadcastStatus.CONFIRMED: _p("broadcast status", "confirmed"),
    BroadcastStatus.FANNED_OUT: _p("broadcast status", "sent"),
    BroadcastStatus.CANCELLED: _p("broadcast status", "cancelled"),
}


async def create_draft(
    *,
    author: StaffAccount | None,
    scope: Scope,
    category: BroadcastCategory,
    title: str,
    body: str,
    ack_requested: bool = False,
    question: Question | None = None,
    drill: bool = False,
    drill_escalates: bool = False,
    translated: Mapping[Language, tuple[str, str]] | None = None,
    actor: str | None = None,
) -> Broadcast:
    """A draft in Japanese (``title``, ``body``) with staff's ``translated`` (title, body) per language.
    It asks ``question``, or for acknowledgement (the one-answer question) with ``ack_requested``;
    a ``drill`` is marked as one everywhere and escalates only with ``drill_escalates``."""
    if question is None and ack_requested:
        question = ACKNOWLEDGEMENT
    title, body = _cleaned(title, body)
    if not title or not body:
        raise UserError(_("A broadcast needs a title and a body."))
    stored = _translations(translated or {})
    if author is not None:
        await check_scope_allowed(author, scope)
    nobody = await nobody_reason(scope)
    if nobody is not None:
        raise UserError(nobody)
    async with in_transaction():
        broadcast = await Broadcast.create(
            author=author,
            scope=scope.to_json(),
            category=category,
            title=title,
            body=body,
            translations=stored or None,
            ack_requested=question is not None,
            question=question.to_json() if question is not None else None,
            is_drill=drill,
            drill_escalates=drill and drill_escalates,
        )
        await audit.record(
            actor or actors.staff_or_system(author),
            "broadcast.draft",
            target=f"broadcast:{broadcast.id}",
            details={
                "scope": scope.text(),
                "category": category.value,
                "ack": question is not None,
                "choices": len(question.choices) if question is not None else 0,
                "drill": drill,
                "translations": sorted(stored),
            },
        )
    return broadcast


def _cleaned(title: str, body: str) -> tuple[str, str]:
    title, body = " ".join(clean_free_text(title).split()), clean_free_text(body).strip()
    if len(title) > TITLE_LIMIT or len(body) > BODY_LIMIT:
        raise UserError(
            _("The title is at most %(title)d characters and the body %(body)d.", title=TITLE_LIMIT, body=BODY_LIMIT)
        )
    return title, body


def _translations(given: Mapping[Language, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The translations to store, cleaned as the Japanese is; one left wholly empty is none."""
    stored = {}
    for language, (title, body) in given.items():
        title, body = _cleaned(title, body)
        if not title and not body:
            continue
        if language is ORIGINAL:
            raise UserError(_("A broadcast is written in Japanese: a translation is into another language."))
        if not title or not body:
            raise UserError(
                _("The translation into %(language)s needs a title and a body.", language=language_name(language))
            )
        stored[language.value] = {"title": title, "body": body}
    return stored


@dataclass(frozen=True)
class LanguageShare:
    """The guardians in scope who read one language, and exactly what each channel sends them."""

    language: Language
    guardians: int
    translated: bool  # staff wrote this language's text (Japanese: the original)
    samples: dict[Channel, RenderedNotice]

    @property
    def framed(self) -> bool:
        """They get the Japanese text, after a sentence in their language saying what it is."""
        return not self.translated


@dataclass(frozen=True)
class BroadcastPreview:
    broadcast: Broadcast
    scope: Scope
    recipients: int
    addresses_by_channel: dict[Channel, int]
    languages: tuple[LanguageShare, ...]  # Japanese first; then each language read in scope or translated
    language: Language  # whose samples ``samples`` are
    escalates: bool  # first addresses first, the others only without acknowledgement
    nobody: Message | None = None  # why it cannot be sent: it would reach nobody
    line_quota: LineQuota | None = None

    @property
    def samples(self) -> dict[Channel, RenderedNotice]:
        return next(share.samples for share in self.languages if share.language is self.language)

    @property
    def scope_label(self) -> Message:
        return self.scope.label()

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
    language: Language = ORIGINAL,
) -> BroadcastPreview:
    """Who it will reach, in which language, and exactly what each language and channel is sent
    (rendered by the code the delivery worker uses, once per language and channel)."""
    broadcast = await _get(broadcast_id)
    scope = Scope.from_json(broadcast.scope)
    guardian_ids = await recipients(scope)
    first_only = escalates(broadcast, settings.delivery)
    by_channel: dict[Channel, int] = {}
    by_language: dict[Language, int] = {}
    for start in range(0, len(guardian_ids), 5000):
        chunk = guardian_ids[start : start + 5000]
        for recipient in chosen_addresses(await addresses_of(chunk), first_only=first_only):
            by_channel[recipient.channel] = by_channel.get(recipient.channel, 0) + 1
        for row in (
            await Guardian.filter(id__in=chunk).group_by("language").annotate(n=Count("id")).values("language", "n")
        ):
            by_language[Language(row["language"])] = by_language.get(Language(row["language"]), 0) + row["n"]
    translated = translations(broadcast)
    shown = [lang for lang in LANGUAGES if lang in (ORIGINAL, language) or lang in by_language or lang in translated]
    shares = tuple(
        LanguageShare(
            lang,
            by_language.get(lang, 0),
            lang is ORIGINAL or lang in translated,
            {
                channel: with_token(broadcast_notice(broadcast, channel, lang, settings), PREVIEW_TOKEN)
                for channel in Channel
            },
        )
        for lang in shown
    )
    return BroadcastPreview(
        broadcast,
        scope,
        len(guardian_ids),
        by_channel,
        shares,
        language,
        first_only,
        nobody=None if guardian_ids else await nobody_reason(scope),
        line_quota=line_quota,
    )


async def confirm(broadcast_id: int, *, by: StaffAccount | None, actor: str | None = None) -> Broadcast:
    """Confirm a draft: the worker fans it out at once (see ``continue_fanouts``)."""
    async with in_transaction():
        broadcast = await _get(broadcast_id, for_update=True)
        if broadcast.status is not BroadcastStatus.DRAFT:
            raise UserError(_not_a_draft(broadcast))
        scope = Scope.from_json(broadcast.scope)
        if by is not None:
            await check_scope_allowed(by, scope)
        nobody = await nobody_reason(scope)
        if nobody is not None:
            raise UserError(nobody)
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
            raise UserError(_not_a_draft(broadcast))
        broadcast.status = BroadcastStatus.CANCELLED
        await broadcast.save(update_fields=["status"])
        await audit.record(actor or actors.staff_or_system(by), "broadcast.cancel", target=f"broadcast:{broadcast.id}")
    return broadcast


def _not_a_draft(broadcast: Broadcast) -> Message:
    return _(
        "Broadcast %(id)d is no longer a draft: it is %(status)s.",
        id=broadcast.id,
        status=STATUS_LABELS[broadcast.status],
    )
