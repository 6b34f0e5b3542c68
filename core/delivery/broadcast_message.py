"""What a broadcast's templates see, from its row alone: the message sent and the staff preview alike.

A broadcast is written in Japanese; staff may add a translation per language
(``Broadcast.translations``). A reader whose language has one reads it; any other reader gets the
Japanese text after a sentence in their own language saying what it is (``framed``). Everything
here depends on the broadcast, the channel and the language only, never on the recipient: a
city-wide alert is rendered once per (broadcast, channel, language) and each delivery's own
acknowledgement token is swapped in for ``PLACEHOLDER_TOKEN`` (core.delivery.compose.with_token).

A broadcast that asks a question lists its choices in the reader's language; mail links to the
answer page (``/ack/<token>``: its GET records nothing), chats get one button per choice. An
acknowledgement (the one-choice question) keeps its one "I have read it" button. A drill's title
is marked (【訓練】) here, for the notices and the portal alike.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from core import buttons, categories
from core.channels import spec
from core.config import Settings
from core.delivery.render import RenderedNotice, render
from core.i18n import _
from core.i18n.languages import ORIGINAL
from core.i18n.messages import listing
from core.models import Broadcast, Channel, Language, NoticeKind
from core.questions import Question, question_of

PLACEHOLDER_TOKEN = "ACK-TOKEN-PLACEHOLDER-7f3c91"
_OPENING_BRACKETS = "【[「『〔(（<＜ 　"


def broadcast_notice(broadcast: Broadcast, channel: Channel, language: Language, settings: Settings) -> RenderedNotice:
    """What every guardian reading ``language`` on ``channel`` gets, with ``PLACEHOLDER_TOKEN`` where
    each one's acknowledgement token goes: the delivery worker and the staff preview both call this."""
    context = broadcast_context(broadcast, settings, ack_token=PLACEHOLDER_TOKEN, channel=channel, language=language)
    return render(NoticeKind.BROADCAST, channel, language, context)


def broadcast_context(
    broadcast: Broadcast,
    settings: Settings,
    *,
    ack_token: str | None,
    channel: Channel,
    language: Language = ORIGINAL,
) -> dict[str, Any]:
    """What the broadcast templates see.

    On a channel that multicasts (LINE) the acknowledge button is a postback naming the broadcast
    (the chat itself says who pressed it), so one identical message can go to many people at once.
    """
    portal = settings.portal.public_url.rstrip("/")
    scope = broadcast.scope or {}
    sites = sorted({t["site"] for t in scope.get("targets", [])})
    title, body, framed = _unmarked_text(broadcast, language)
    label = categories.label(broadcast.category).translate(language)
    context: dict[str, Any] = {
        "category": broadcast.category.value,
        "category_label": label,
        "title": title,
        "body": body,
        "title_names_category": names_category(title, label),
        "marked": partial(drill_marked, broadcast, language=language),
        "framed": framed,
        "sites": sites,
        "sender": _sender(sites, language),
        "portal_url": portal,
        "ack_url": None,
        "ack_postback": None,
        "choices": [],
        "choice_buttons": [],
    }
    # Imported here: core.broadcasts (drafts' preview) imports this module.
    question = question_of(broadcast)
    if question is None:
        return context
    multicast = spec(channel).multicast_limit is not None
    if not multicast and ack_token:
        context["ack_url"] = f"{portal}/ack/{ack_token}"
    if question.is_acknowledgement:
        if multicast:
            context["ack_postback"] = buttons.AckBroadcast(broadcast.id).pack()
        elif ack_token:
            context["ack_postback"] = buttons.Ack(ack_token).pack()
        return context
    context["choices"] = [choice.label_in(language)[0] for choice in question.choices]
    if spec(channel).has_buttons:
        context["choice_buttons"] = _choice_buttons(broadcast, question, language, ack_token, multicast=multicast)
    return context


def _choice_buttons(
    broadcast: Broadcast, question: Question, language: Language, ack_token: str | None, *, multicast: bool
) -> list[tuple[str, str]]:
    """(label, postback) per choice: on a multicast channel they name the broadcast, else the delivery."""
    pressed: list[buttons.ButtonData]
    if multicast:
        pressed = [buttons.AnswerBroadcast(broadcast.id, i) for i in range(len(question.choices))]
    elif ack_token:
        pressed = [buttons.Answer(ack_token, i) for i in range(len(question.choices))]
    else:
        return []
    return [(c.label_in(language)[0], p.pack()) for c, p in zip(question.choices, pressed, strict=True)]


def drill_marked(broadcast: Broadcast, text: str, language: Language) -> str:
    """``text`` (a title, a subject) with 【訓練】 in front when ``broadcast`` is a drill."""
    if not broadcast.is_drill:
        return text
    # Translators: in front of a drill's title and subject; Japanese: 【訓練】%(text)s
    return _("[DRILL] %(text)s", text=text).translate(language)


def text_for(broadcast: Broadcast, language: Language) -> tuple[str, str, bool]:
    """(title, body, framed) as a reader of ``language`` gets them, in a notice or on the portal:
    their translation, else the Japanese, framed (told what it is) unless they read Japanese; a
    drill's title marked."""
    title, body, framed = _unmarked_text(broadcast, language)
    return drill_marked(broadcast, title, language), body, framed


def _unmarked_text(broadcast: Broadcast, language: Language) -> tuple[str, str, bool]:
    translation = translations(broadcast).get(language)
    if translation is not None:
        return translation[0], translation[1], False
    return broadcast.title, broadcast.body, language is not ORIGINAL


def translations(broadcast: Broadcast) -> dict[Language, tuple[str, str]]:
    """The (title, body) staff wrote for each language other than Japanese."""
    stored = broadcast.translations or {}
    return {Language(code): (text["title"], text["body"]) for code, text in stored.items()}


def names_category(title: str, label: str) -> bool:
    """Whether ``title`` already starts with its category's name (「【不審者情報】正門付近で…」): then
    the subject is the title alone, not the category twice."""
    return title.lstrip(_OPENING_BRACKETS).casefold().startswith(label.casefold())


def _sender(sites: list[str], language: Language) -> str:
    return (listing(sites) if sites else _("Board of Education")).translate(language)
