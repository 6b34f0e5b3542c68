"""The one conversation the bots hold, written once for every chat app.

An adapter (bot/telegram.py, bot/line.py) turns what arrived into an ``Incoming`` (a text, or
the data of a pressed button) and speaks the ``Reply`` back in its app's own way. Guardians
register a chat with their code and manage their notices; staff whose chat is linked draft
alerts through the same two-step broadcast API as the portal; anyone acknowledges a broadcast.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bot import answers as broadcast_answers
from bot import reports
from bot.replies import say, say_to_staff, staff_language
from core import actors, answers, broadcasts, buttons, zones
from core.addresses import address_index, counted_addresses, remove_addresses
from core.channels import spec
from core.channels.line_quota import LineQuota
from core.config import Settings
from core.errors import NotFound, UserError
from core.i18n import _
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.identifiers import find_registration_code
from core.models import (
    AddressStatus,
    Broadcast,
    BroadcastCategory,
    Channel,
    ContactAddress,
    Guardian,
    Language,
    Passage,
    PassageOutcome,
    StaffAccount,
)
from core.outage import is_database_outage
from core.preferences import language_of, set_passages_paused, set_photos_in_chat
from core.registration import Outcome, register_with_code
from core.staff_links import link_chat, staff_for_chat

log = logging.getLogger(__name__)

# Command words, Japanese first; the first word of a message (a leading "/" and a Telegram
# "@botname" suffix dropped, case and width folded) picks the command. A two-word command
# ("photos on", "写真 オン") is also taken with its words run together or joined by "_".
COMMANDS: dict[str, tuple[str, ...]] = {
    "status": ("状況", "status", "today"),
    "report": ("欠席連絡", "report", "欠席", "遅刻", "早退", "absent", "late"),
    "addresses": ("登録", "addresses", "list"),
    "stop": ("停止", "stop", "pause"),
    "resume": ("再開", "resume", "restart"),
    "photos_on": ("写真オン", "photos on"),
    "photos_off": ("写真オフ", "photos off"),
    "unlink": ("解除", "unlink"),
    "help": ("ヘルプ", "help", "start", "menu"),
    "alert": ("警報", "alert"),
    "link": ("連携", "link"),
}
CATEGORY_WORDS = {
    BroadcastCategory.SUSPICIOUS_PERSON: ("不審者", "suspicious"),
    BroadcastCategory.CLOSURE: ("休校", "closure"),
    BroadcastCategory.DISASTER: ("災害", "disaster"),
    BroadcastCategory.GENERAL: ("お知らせ", "notice"),
}
ALERT_CATEGORIES = {word: category for category, words in CATEGORY_WORDS.items() for word in words}
ACK_WORDS = ("要確認", "ack")
# Who is shown the Japanese command words (all of them work for everyone): readers of Japanese.
_JAPANESE_WORDS = frozenset({Language.JA, Language.JA_EASY})


def _word_key(word: str) -> str:
    return re.sub(r"[\s_]", "", word.casefold())


_WORDS = {_word_key(word): name for name, words in COMMANDS.items() for word in words}
# A local day lasts 25 hours at most (a DST change): every site's today began within this.
_LONGEST_DAY = timedelta(hours=25)
# The guardian commands offered as buttons (LINE quick replies) and in Telegram's command menu.
GUARDIAN_MENU = ("status", "report", "addresses", "stop", "resume", "photos_on", "photos_off", "unlink", "help")
STAFF_MENU = ("alert",)

LineQuotaReader = Callable[[], Awaitable[LineQuota | None]]


@dataclass(frozen=True)
class Incoming:
    channel: Channel
    chat: str  # the Telegram chat id or LINE user id it came from
    text: str = ""
    postback: str | None = None  # the data of a pressed button
    language: Language = DEFAULT_LANGUAGE  # the replies' (set by the conversation: whose chat it is)


@dataclass(frozen=True)
class Button:
    label: str
    postback: str


@dataclass(frozen=True)
class MenuItem:
    """A command offered to a reader: its button (at most 20 characters on LINE), the word a tap
    sends, and its line in Telegram's command menu."""

    command: str
    label: str
    word: str
    description: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    prompt: str = ""  # the line above the buttons (LINE's buttons template needs one)
    menu: bool = False  # offer the guardian commands (LINE quick replies)
    staff_menu: bool = False  # the chat's commands include the staff ones
    menu_changed: bool = False  # the chat's commands are new (registered, linked to staff): Telegram sets its menu
    language: Language = DEFAULT_LANGUAGE  # the reply's: the menu's labels are in it


def menu(language: Language, *, staff: bool = False) -> tuple[MenuItem, ...]:
    """The commands offered to a reader of ``language`` (staff: the alert command too)."""
    words = command_words(language)
    return tuple(
        MenuItem(
            command=name,
            label=say("menu_label", language, command=name)[:20],
            word=words[name],
            description=say("menu_description", language, command=name),
        )
        for name in GUARDIAN_MENU + (STAFF_MENU if staff else ())
    )


def command_words(language: Language) -> dict[str, str]:
    """The word each command (and alert option) is shown as to a reader of ``language``."""
    pick = 0 if language in _JAPANESE_WORDS else 1
    words = {name: typed[pick] for name, typed in COMMANDS.items()}
    shown_categories = [
        typed[pick] for category, typed in CATEGORY_WORDS.items() if category is not BroadcastCategory.GENERAL
    ]
    return {**words, "categories": "|".join(shown_categories), "ack": ACK_WORDS[pick]}


def parse_command(text: str) -> tuple[str | None, str]:
    """(command name or None, the rest of the text)."""
    first, rest = _first_word(unicodedata.normalize("NFKC", text))
    word = _word_key(first.lstrip("/").split("@", 1)[0])
    if word in _WORDS:
        return _WORDS[word], rest
    second, after = _first_word(rest)
    if second and _word_key(word + second) in _WORDS:
        return _WORDS[_word_key(word + second)], after
    return None, rest


def _first_word(text: str) -> tuple[str, str]:
    """(the first word, the rest with its line breaks kept)."""
    match = re.match(r"\s*(\S*)\s*(.*)", text, re.DOTALL)
    assert match is not None  # the pattern matches any text
    return match[1], match[2].rstrip()


def parse_alert(text: str) -> tuple[str, BroadcastCategory, bool, str]:
    """``SCOPE [category word] [要確認] TEXT`` -> (scope, category, ack asked, text)."""
    scope, rest = _first_word(text)
    category, ack = BroadcastCategory.GENERAL, False
    while True:
        word, after = _first_word(rest)
        folded = word.casefold()
        if folded in ALERT_CATEGORIES:
            category = ALERT_CATEGORIES[folded]
        elif folded in ACK_WORDS:
            ack = True
        else:
            return scope, category, ack, rest
        rest = after


Handler = Callable[[Incoming, Any], Awaitable[Reply]]


class Conversation:
    def __init__(self, settings: Settings, *, line_quota: LineQuotaReader | None = None) -> None:
        self._settings = settings
        self._limit = settings.accounts.max_addresses
        self._line_quota = line_quota
        # Commands anyone may send (staff have no guardian address), with the rest of the text.
        self._open_commands: dict[str, Handler] = {"link": self._link_staff, "alert": self._alert}
        # Commands of a registered chat, with its addresses.
        self._guardian_commands: dict[str, Handler] = {
            "status": self._status,
            "addresses": self._addresses,
            "stop": partial(self._pause, paused=True),
            "resume": partial(self._pause, paused=False),
            "photos_on": partial(self._photos, on=True),
            "photos_off": partial(self._photos, on=False),
            "unlink": self._unlink,
            "report": self._report_command,
        }
        self._buttons: dict[type[buttons.ButtonData], Handler] = {
            buttons.Ack: self._ack,
            buttons.AckBroadcast: self._ack_broadcast,
            buttons.Answer: self._answer_by_token,
            buttons.AnswerFor: self._answer_by_token,
            buttons.AnswerBroadcast: self._answer_in_chat,
            buttons.AnswerBroadcastFor: self._answer_in_chat,
            buttons.ConfirmBroadcast: self._decide,
            buttons.CancelBroadcast: self._decide,
            buttons.Report: self._report_step,
            buttons.SendReport: self._report_send,
            buttons.CancelReport: self._report_cancel,
            buttons.CheckAnswer: self._check_answer,
        }

    async def respond(self, incoming: Incoming) -> Reply:
        """The answer to one message or button; while the database is away, an honest "not now"
        (the person sends it again), never silence."""
        try:
            return await self._respond(incoming)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            log.warning("a %s message was not handled: the database is unavailable", incoming.channel.value)
            return Reply(say("unavailable", incoming.language), language=incoming.language)

    async def _respond(self, incoming: Incoming) -> Reply:
        await _reachable_again(incoming)
        incoming = replace(incoming, language=await _chat_language(incoming))
        if incoming.postback is not None:
            return await self._button(incoming, incoming.postback)
        command, rest = parse_command(incoming.text)
        if command in self._open_commands:
            return await self._open_commands[command](incoming, rest)
        if find_registration_code(incoming.text) is not None:
            return await self._register(incoming)
        addresses = await self._chat_addresses(incoming)
        if command not in self._guardian_commands:  # help, or words we do not know
            if not addresses and await staff_for_chat(incoming.channel, incoming.chat) is None:
                return Reply(say("ask_for_code", incoming.language, words=command_words(incoming.language)))
            return await self._help(incoming)
        if not addresses:
            return Reply(say("not_registered", incoming.language), language=incoming.language)
        return await self._guardian_commands[command](incoming, addresses)

    # ---- guardians ---------------------------------------------------------------------------

    async def _register(self, incoming: Incoming) -> Reply:
        result = await register_with_code(incoming.text, incoming.channel, incoming.chat, limit=self._limit)
        # Once the code named a guardian, the answer is in their language (the chat's is not known yet).
        language = await language_of(result.guardian_id) or incoming.language
        words = command_words(language)
        if result.outcome is Outcome.REGISTERED:
            return await self._registered(incoming, say("registered", language, words=words), language)
        if result.outcome is Outcome.ALREADY_REGISTERED:
            return await self._registered(incoming, say("already_registered", language), language)
        if result.outcome is Outcome.THROTTLED:
            return Reply(say("throttled", language, minutes=_minutes(result.retry_after)), language=language)
        if result.outcome is Outcome.AT_LIMIT:
            return Reply(
                say(
                    "at_limit",
                    language,
                    limit=self._limit,
                    registered=[_shown(a, incoming) for a in result.registered],
                    portal_url=self._settings.portal.public_url.rstrip("/"),
                    words=words,
                ),
                language=language,
            )
        return Reply(say("wrong_code", language), language=language)

    @staticmethod
    async def _registered(incoming: Incoming, text: str, language: Language) -> Reply:
        """A chat registered (again): the commands offered, in the guardian's language."""
        staff = await staff_for_chat(incoming.channel, incoming.chat)
        return Reply(text, menu=True, staff_menu=staff is not None, menu_changed=True, language=language)

    @staticmethod
    async def _for_each(
        guardian_ids: list[int], choose: Callable[..., Awaitable[bool]], value: bool, *, via: str
    ) -> None:
        """A chat registered by several guardians sets the choice for each of them."""
        for guardian in await Guardian.filter(id__in=guardian_ids):
            await choose(guardian, value, via=via)

    async def _chat_addresses(self, incoming: Incoming) -> list[ContactAddress]:
        return await ContactAddress.filter(
            channel=incoming.channel,
            value_index=address_index(incoming.channel, incoming.chat),
            slot__isnull=False,
        )

    async def _status(self, incoming: Incoming, addresses: list[ContactAddress]) -> Reply:
        passages = await _today(_guardian_ids(addresses))
        return Reply(say("status", incoming.language, passages=passages), menu=True, language=incoming.language)

    async def _addresses(self, incoming: Incoming, addresses: list[ContactAddress]) -> Reply:
        registered = await counted_addresses(_guardian_ids(addresses)[0])
        return Reply(
            say(
                "addresses", incoming.language, registered=[_shown(a, incoming) for a in registered], limit=self._limit
            ),
            menu=True,
            language=incoming.language,
        )

    async def _pause(self, incoming: Incoming, addresses: list[ContactAddress], *, paused: bool) -> Reply:
        await self._for_each(_guardian_ids(addresses), set_passages_paused, paused, via=incoming.channel.value)
        words = command_words(incoming.language)
        text = say("paused", incoming.language, words=words) if paused else say("resumed", incoming.language)
        return Reply(text, menu=True, language=incoming.language)

    async def _photos(self, incoming: Incoming, addresses: list[ContactAddress], *, on: bool) -> Reply:
        await self._for_each(_guardian_ids(addresses), set_photos_in_chat, on, via=incoming.channel.value)
        words = command_words(incoming.language)
        return Reply(
            say("photos_on" if on else "photos_off", incoming.language, words=words),
            menu=True,
            language=incoming.language,
        )

    async def _unlink(self, incoming: Incoming, addresses: list[ContactAddress]) -> Reply:
        await remove_addresses(addresses, via=incoming.channel.value)
        return Reply(say("unlinked", incoming.language), language=incoming.language)

    async def _help(self, incoming: Incoming) -> Reply:
        staff = await staff_for_chat(incoming.channel, incoming.chat)
        words = command_words(incoming.language)
        text = say("help", incoming.language, staff=staff is not None, words=words)
        return Reply(text, menu=True, language=incoming.language)

    # ---- absence reports (bot/reports.py) ----------------------------------------------------

    async def _report_command(self, incoming: Incoming, addresses: list[ContactAddress]) -> Reply:
        return await self._report_step(incoming, buttons.Report())

    async def _report_step(self, incoming: Incoming, pressed: buttons.Report) -> Reply:
        family = await reports.family_of(_guardian_ids(await self._chat_addresses(incoming)))
        if family is None:
            return Reply(say("not_registered", incoming.language), language=incoming.language)
        portal_url = self._settings.portal.public_url.rstrip("/")
        question = await reports.next_step(pressed, family, incoming.language, portal_url)
        return Reply(
            question.text,
            buttons=tuple(Button(label, data) for label, data in question.choices),
            language=incoming.language,
        )

    async def _report_send(self, incoming: Incoming, pressed: buttons.SendReport) -> Reply:
        family = await reports.family_of(_guardian_ids(await self._chat_addresses(incoming)))
        if family is None:
            return Reply(say("not_registered", incoming.language), language=incoming.language)
        text = await reports.send(pressed, family, incoming.channel, incoming.language)
        return Reply(text, menu=True, language=incoming.language)

    async def _report_cancel(self, incoming: Incoming, pressed: buttons.CancelReport) -> Reply:
        return Reply(say("report_cancelled", incoming.language), menu=True, language=incoming.language)

    # ---- staff -------------------------------------------------------------------------------

    async def _link_staff(self, incoming: Incoming, code: str) -> Reply:
        if not code:
            return Reply(say("staff_link_wrong", incoming.language), language=incoming.language)
        linked = await link_chat(code, incoming.channel, incoming.chat)
        if isinstance(linked, timedelta):
            return Reply(say("throttled", incoming.language, minutes=_minutes(linked)), language=incoming.language)
        if linked is None:
            return Reply(say("staff_link_wrong", incoming.language), language=incoming.language)
        # The chat's menu is in its guardian's language if it has one, as every other reply there.
        language = await _chat_language(incoming)
        return Reply(
            say_to_staff("staff_linked", linked.language, login_id=linked.login_id, words=_staff_words(linked)),
            staff_menu=True,
            menu_changed=True,
            language=language,
        )

    async def _alert(self, incoming: Incoming, rest: str) -> Reply:
        staff = await staff_for_chat(incoming.channel, incoming.chat)
        if staff is None:
            return self._staff_only(incoming)
        scope_text, category, ack, text = parse_alert(rest)
        if not scope_text or not text:
            return Reply(say_to_staff("alert_usage", staff.language, words=_staff_words(staff)))
        try:
            scope = await broadcasts.parse_scope(scope_text)
            draft = await broadcasts.create_draft(
                author=staff,
                scope=scope,
                category=category,
                title=text.splitlines()[0][: broadcasts.TITLE_LIMIT],
                body=text,
                ack_requested=ack,
                actor=actors.staff(staff, incoming.channel),
            )
        except UserError as refusal:
            return Reply(say_to_staff("refused", staff.language, message=refusal.message))
        quota = await self._line_quota() if self._line_quota else None
        shown = await broadcasts.preview(draft.id, self._settings, line_quota=quota, language=staff.language)
        return Reply(
            say_to_staff("preview", staff.language, p=shown, sample=shown.samples[incoming.channel]),
            buttons=(
                Button(say_to_staff("confirm_label", staff.language), buttons.ConfirmBroadcast(draft.id).pack()),
                Button(say_to_staff("cancel_label", staff.language), buttons.CancelBroadcast(draft.id).pack()),
            ),
            prompt=say_to_staff("choose", staff.language),
        )

    @staticmethod
    def _staff_only(incoming: Incoming) -> Reply:
        return Reply(
            say("staff_only", incoming.language, words=command_words(incoming.language)), language=incoming.language
        )

    async def _decide(self, incoming: Incoming, pressed: buttons.ConfirmBroadcast | buttons.CancelBroadcast) -> Reply:
        staff = await staff_for_chat(incoming.channel, incoming.chat)
        if staff is None:
            return self._staff_only(incoming)
        actor = actors.staff(staff, incoming.channel)
        broadcast_id = pressed.broadcast_id
        try:
            if isinstance(pressed, buttons.ConfirmBroadcast):
                await broadcasts.confirm(broadcast_id, by=staff, actor=actor)
                return Reply(say_to_staff("confirmed", staff.language, broadcast_id=broadcast_id))
            await _check_author(staff, broadcast_id)
            await broadcasts.cancel(broadcast_id, by=staff, actor=actor)
            return Reply(say_to_staff("cancelled", staff.language, broadcast_id=broadcast_id))
        except UserError as refusal:
            return Reply(say_to_staff("refused", staff.language, message=refusal.message))

    # ---- buttons -----------------------------------------------------------------------------

    async def _ack(self, incoming: Incoming, pressed: buttons.Ack) -> Reply:
        try:
            found = await broadcasts.answer_by_token(pressed.token, 0, via=incoming.channel) is not None
        except UserError:
            found = False
        return Reply(say("acknowledged" if found else "unknown_button", incoming.language), language=incoming.language)

    async def _ack_broadcast(self, incoming: Incoming, pressed: buttons.AckBroadcast) -> Reply:
        found = False
        for guardian_id in await broadcasts.guardians_of_chat(pressed.broadcast_id, incoming.channel, incoming.chat):
            try:
                await broadcasts.answer(pressed.broadcast_id, guardian_id, 0, via=incoming.channel)
                found = True
            except UserError:
                pass
        return Reply(say("acknowledged" if found else "unknown_button", incoming.language), language=incoming.language)

    async def _answer_by_token(self, incoming: Incoming, pressed: buttons.Answer | buttons.AnswerFor) -> Reply:
        answering = await broadcast_answers.by_token(pressed.token)
        return await self._answer(incoming, answering, pressed.choice, getattr(pressed, "pupil", None))

    async def _answer_in_chat(
        self, incoming: Incoming, pressed: buttons.AnswerBroadcast | buttons.AnswerBroadcastFor
    ) -> Reply:
        answering = await broadcast_answers.in_chat(pressed.broadcast_id, incoming.channel, incoming.chat)
        return await self._answer(incoming, answering, pressed.choice, getattr(pressed, "pupil", None))

    async def _answer(
        self, incoming: Incoming, answering: broadcast_answers.Answering | None, choice: int, pupil: str | None
    ) -> Reply:
        """A choice under a broadcast's question (bot/answers.py)."""
        if answering is None:
            return Reply(say("unknown_button", incoming.language), language=incoming.language)
        said = await broadcast_answers.press(answering, choice, pupil, incoming.channel, incoming.language)
        buttons_ = tuple(Button(label, data) for label, data in said.choices)
        return Reply(said.text, buttons=buttons_, language=incoming.language)

    async def _check_answer(self, incoming: Incoming, pressed: buttons.CheckAnswer) -> Reply:
        """A one-tap answer to a "not seen" notice, recorded as the answer page's POST records it;
        lateness needs a time, which the page asks for."""
        asked = await answers.question(pressed.token)
        if asked is None or pressed.choice not in set(answers.Answer):
            return Reply(say("unknown_button", incoming.language), language=incoming.language)
        before = asked.answered is not None or asked.link.answered_at is not None
        choice = answers.Answer(pressed.choice)
        if not before and choice is not answers.Answer.LATE:
            asked = await answers.answer(pressed.token, choice) or asked
        link_url = answers.answer_url(self._settings.portal.public_url, pressed.token)
        at_time = asked.at_time.strftime("%H:%M") if asked.at_time else ""
        text = say(
            "check_answer",
            incoming.language,
            answered=asked.answered,
            at_time=at_time,
            before=before,
            link_url=link_url,
        )
        return Reply(text, language=incoming.language)

    async def _button(self, incoming: Incoming, data: str) -> Reply:
        pressed = buttons.parse(data)
        if pressed is not None:
            return await self._buttons[type(pressed)](incoming, pressed)
        command, _ = parse_command(data)
        if command is not None:  # a menu button that sends a command word
            return await self.respond(Incoming(incoming.channel, incoming.chat, text=data))
        return Reply(say("unknown_button", incoming.language), language=incoming.language)


def _guardian_ids(addresses: list[ContactAddress]) -> list[int]:
    return sorted({a.guardian_id for a in addresses})


async def _check_author(staff: StaffAccount, broadcast_id: int) -> None:
    broadcast = await Broadcast.get_or_none(id=broadcast_id)
    if broadcast is None:
        raise NotFound(_("There is no broadcast %(id)d.", id=broadcast_id))
    await broadcasts.check_scope_allowed(staff, broadcasts.Scope.from_json(broadcast.scope))


async def _today(guardian_ids: list[int]) -> list[dict[str, Any]]:
    """Today's passages of the guardians' children (each site's own today), oldest first."""
    pupils = await Guardian.filter(id__in=guardian_ids).values_list("pupils__id", flat=True)
    passages = (
        await Passage.filter(
            pupil_id__in=[p for p in pupils if p is not None] or [0],
            seen_at__gte=datetime.now(UTC) - _LONGEST_DAY,
            outcome__in=[PassageOutcome.NOTIFIED, PassageOutcome.REPEAT],
        )
        .order_by("seen_at")
        .prefetch_related("pupil", "site")
    )
    return [
        {"seen_at": p.seen_at, "pupil": p.pupil.name if p.pupil else "", "site": p.site, "direction": p.direction}
        for p in passages
        if zones.is_today(p.seen_at, p.site)
    ]


async def _chat_language(incoming: Incoming) -> Language:
    """The language of whoever this chat belongs to: its guardian's (the first, if several share
    it), else its staff member's; the default for a chat nobody registered."""
    address = (
        await ContactAddress.filter(
            channel=incoming.channel, value_index=address_index(incoming.channel, incoming.chat), slot__isnull=False
        )
        .order_by("guardian_id")
        .only("id", "guardian_id")
        .first()
    )
    guardian = await language_of(address.guardian_id if address is not None else None)
    if guardian is not None:
        return guardian
    staff = await staff_for_chat(incoming.channel, incoming.chat)
    return staff.language if staff is not None else DEFAULT_LANGUAGE


async def _reachable_again(incoming: Incoming) -> None:
    """A chat that speaks to us does not block us (any more): its addresses are active again."""
    await ContactAddress.filter(
        channel=incoming.channel,
        value_index=address_index(incoming.channel, incoming.chat),
        status=AddressStatus.INACTIVE,
        slot__isnull=False,
    ).update(status=AddressStatus.ACTIVE)


def _shown(address: ContactAddress, incoming: Incoming) -> dict[str, Any]:
    """How an address is named in a chat: chats by app, mail partly hidden."""
    this_chat = address.channel is incoming.channel and address.value_index == address_index(
        incoming.channel, incoming.chat
    )
    shown = spec(address.channel).mask(address.value)
    return {"channel": address.channel.value, "shown": shown, "this_chat": this_chat}


def _staff_words(staff: StaffAccount) -> dict[str, str]:
    """The command words as the staff member's replies show them."""
    return command_words(staff_language(staff.language))


def _minutes(wait: timedelta | None) -> int:
    return max(1, math.ceil((wait or timedelta(0)).total_seconds() / 60))


__all__ = [
    "COMMANDS",
    "Button",
    "Conversation",
    "GUARDIAN_MENU",
    "Incoming",
    "MenuItem",
    "Reply",
    "menu",
    "parse_alert",
    "parse_command",
]
