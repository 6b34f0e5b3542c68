"""A broadcast as a guardian reads it on the portal (home, the answer page): its text in their
language, and what it asks: per child, the counted answer and the choices; and reading what a
posted answer form says."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from core.broadcasts import Asked, Question
from core.delivery.broadcast_message import text_for
from core.errors import UserError
from core.i18n import _
from core.models import Broadcast, Language

ALL = "all"  # a form's ``pupil`` for all the guardian's children in the broadcast's scope


@dataclass(frozen=True)
class ChoiceView:
    index: int
    label: str
    framed: bool  # the Japanese label, shown to a reader of another language


@dataclass(frozen=True)
class ChildRow:
    pupil_id: int
    name: str
    answer: ChoiceView | None
    answered_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class AnswerSheet:
    broadcast_id: int
    acknowledgement: bool  # the one-choice question: one button, for all the children
    choices: list[ChoiceView]
    children: list[ChildRow]
    closed: bool
    allows_note: bool

    @classmethod
    def of(cls, asked: Asked, language: Language) -> AnswerSheet:
        choices = [ChoiceView(i, *c.label_in(language)) for i, c in enumerate(asked.question.choices)]
        children = []
        for pupil in asked.pupils:
            given = asked.answers.get(pupil.id)
            shown = choices[given.choice] if given is not None and given.choice < len(choices) else None
            children.append(
                ChildRow(
                    pupil.id, pupil.name, shown, given.answered_at if given else None, given.note if given else None
                )
            )
        return cls(
            asked.broadcast.id,
            asked.question.is_acknowledgement,
            choices,
            children,
            asked.closed,
            asked.question.allows_note,
        )

    @property
    def several(self) -> bool:
        return len(self.children) > 1

    @property
    def answered_at(self) -> datetime | None:
        """The latest answer's time (an acknowledgement counts once anyone answered)."""
        return max((c.answered_at for c in self.children if c.answered_at), default=None)

    @property
    def waiting(self) -> bool:
        """Still to answer: an unacknowledged acknowledgement, or a child unanswered while answers are taken."""
        if self.acknowledgement:
            return self.answerable and self.answered_at is None
        return self.answerable and any(c.answer is None for c in self.children)

    @property
    def answerable(self) -> bool:
        """Open, and about a child of theirs (a city-wide alert also reaches a guardian with none)."""
        return not self.closed and bool(self.children)


@dataclass(frozen=True)
class Alert:
    """A broadcast in the reader's language (or the Japanese, framed), a drill's title marked, and
    what it asks of them (None when it asks nothing)."""

    broadcast: Broadcast
    title: str
    body: str
    framed: bool
    sheet: AnswerSheet | None

    @classmethod
    def of(cls, broadcast: Broadcast, language: Language, asked: Asked | None) -> Alert:
        title, body, framed = text_for(broadcast, language)
        return cls(broadcast, title, body, framed, AnswerSheet.of(asked, language) if asked is not None else None)

    @property
    def waiting(self) -> bool:
        """Asks something not answered yet: shown first."""
        return self.sheet is not None and self.sheet.waiting


def chosen_index(text: str, question: Question) -> int:
    """The choice a form names; an acknowledgement's form may name none. A UserError for anything
    else that is not a number (a choice the question lacks is refused where it is recorded)."""
    if not text and question.is_acknowledgement:
        return 0
    if not (text.isascii() and text.isdigit()):
        raise UserError(_("That answer is not one of the choices. Please choose again."))
    return int(text)


def chosen_pupils(text: str) -> Collection[int] | None:
    """The children a form names: one pupil id, or all (None)."""
    if text in ("", ALL):
        return None
    if not (text.isascii() and text.isdigit()):
        raise UserError(_("You can answer only for your own children this message was about."))
    return {int(text)}
