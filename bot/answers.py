"""Answering a broadcast's question in a chat; core.broadcasts records the answers.

A choice under the notice is one tap for a guardian with one child in the broadcast's scope. With
several, the tap asks for whom: one button per child and one for all of them, so "same for all" is
one more tap. The choice is not recorded for every child unasked: after an earthquake, 無事です
pressed with one child in mind must not stand for a sibling. Once a child is answered, the reply
offers the choices for the next child still unanswered.

Telegram buttons carry the delivery's token (as the mail link does); LINE's name the broadcast (one
multicast to many chats), and the chat says whose children they are (a chat may be two guardians').
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bot.replies import say
from core import broadcasts, buttons
from core.broadcasts import Asked, Question
from core.errors import UserError
from core.i18n import _
from core.models import Channel, Language, Pupil
from core.passages import given_name

ALL = "all"  # the follow-up button for all of the guardian's children


@dataclass(frozen=True)
class Said:
    """What the chat says: a text and its buttons (label, payload)."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Answering:
    """Who answers by a pressed button (one ``Asked`` per guardian of the chat), and how the
    follow-up buttons (a choice for a child) are made."""

    asked: list[Asked]
    follow_up: Callable[[int, str], buttons.ButtonData]

    @property
    def question(self) -> Question:
        return self.asked[0].question

    @property
    def pupils(self) -> list[Pupil]:
        unique = {p.id: p for a in self.asked for p in a.pupils}
        return [unique[i] for i in sorted(unique)]

    def answered(self) -> dict[int, int]:
        """The counted choice, by pupil id."""
        return {pupil_id: given.choice for a in self.asked for pupil_id, given in a.answers.items()}


async def by_token(token: str) -> Answering | None:
    found = await broadcasts.asked_by_token(token)
    return Answering([found], partial(buttons.AnswerFor, token)) if found is not None else None


async def in_chat(broadcast_id: int, channel: Channel, chat: str) -> Answering | None:
    found = await broadcasts.asked_in_chat(broadcast_id, channel, chat)
    return Answering(found, partial(buttons.AnswerBroadcastFor, broadcast_id)) if found else None


async def press(answering: Answering, choice: int, pupil: str | None, via: Channel, language: Language) -> Said:
    """A choice pressed, for ``pupil`` (an id, ``ALL``, or None: not said yet)."""
    try:
        label = answering.question.choice(choice).label_in(language)[0]
        if answering.asked[0].closed:
            raise UserError(_("Answers to this message are closed. Please contact the school directly."))
        pupils = answering.pupils
        if pupil is None and len(pupils) > 1:
            return _which_child(answering, choice, label, pupils, language)
        chosen = pupils if pupil in (None, ALL) else [p for p in pupils if str(p.id) == pupil]
        if not chosen:
            raise UserError(_("You can answer only for your own children this message was about."))
        before = answering.answered()
        await _record(answering, choice, {p.id for p in chosen}, via)
    except UserError as refusal:
        return Said(say("answer_refused", language, message=refusal.message))
    after = Answering([await _again(a) for a in answering.asked], answering.follow_up)
    unchanged = all(before.get(p.id) == choice for p in chosen)
    waiting = [p for p in after.pupils if p.id not in after.answered()]
    following = waiting[0] if waiting else None
    text = say(
        "answer_recorded",
        language,
        unchanged=unchanged,
        answers=[(given_name(p.name), label) for p in chosen],
        waiting=given_name(following.name) if following is not None else None,
    )
    if following is None:
        return Said(text)
    return Said(text, _choice_buttons(after, str(following.id), language))


def _which_child(answering: Answering, choice: int, label: str, pupils: list[Pupil], language: Language) -> Said:
    each = [(given_name(p.name), answering.follow_up(choice, str(p.id)).pack()) for p in pupils]
    everyone = (_("All children").translate(language), answering.follow_up(choice, ALL).pack())
    return Said(say("answer_which", language, choice=label), (*each, everyone))


def _choice_buttons(answering: Answering, pupil: str, language: Language) -> tuple[tuple[str, str], ...]:
    return tuple(
        (c.label_in(language)[0], answering.follow_up(i, pupil).pack())
        for i, c in enumerate(answering.question.choices)
    )


async def _record(answering: Answering, choice: int, pupil_ids: set[int], via: Channel) -> None:
    """Each guardian of the chat answers for those of ``pupil_ids`` who are theirs (a child of two
    guardians sharing the chat once)."""
    left = set(pupil_ids)
    for asked in answering.asked:
        theirs = left & {p.id for p in asked.pupils}
        if theirs:
            await broadcasts.answer(asked.broadcast.id, asked.guardian_id, choice, via=via, pupil_ids=theirs)
            left -= theirs


async def _again(asked: Asked) -> Asked:
    return await broadcasts.asked(asked.broadcast.id, asked.guardian_id) or asked
