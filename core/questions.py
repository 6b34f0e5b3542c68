"""What a broadcast asks: its choices, in each reader's language.

A broadcast asks at most one question, with 2–5 choices (``MAX_CHOICES``) — or one, "確認しました",
which is what an acknowledgement is (``ACKNOWLEDGEMENT``): one mechanism for both. A choice may be
flagged as needing help (けがをしています, 迎えが必要です), which staff see first.

Stored on ``Broadcast.question`` as JSON: ``{"choices": [{"label": "無事です", "needs_help": false,
"msgid": "Safe", "labels": {"en": "…"}}], "note": false}``. ``label`` is the Japanese, as the
broadcast's title is; ``msgid`` names a built-in choice, translated by the catalogs; ``labels`` are
staff's own translations of a choice they wrote. A reader gets their language's label, else the
Japanese one (framed, as an untranslated broadcast is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import UserError
from core.i18n import Message, _
from core.i18n.languages import ORIGINAL
from core.models import Broadcast, Language, QuestionTemplate

MIN_CHOICES, MAX_CHOICES = 2, 5
LABEL_LIMIT = 40  # a chat button's text


def N_(msgid: str) -> str:
    """A built-in choice's msgid: extracted into the catalogs, translated when shown."""
    return msgid


@dataclass(frozen=True)
class Choice:
    label: str  # Japanese
    needs_help: bool = False
    msgid: str | None = None  # a built-in choice: the catalogs translate it
    labels: Mapping[str, str] = field(default_factory=dict)  # staff's translations, by language code

    def label_in(self, language: Language) -> tuple[str, bool]:
        """(the label, framed): a reader of ``language`` gets their own; else the Japanese, framed
        unless they read Japanese."""
        if language is ORIGINAL:
            return self.label, False
        if language.value in self.labels:
            return self.labels[language.value], False
        if self.msgid is not None:
            return Message(self.msgid).translate(language), False
        return self.label, True

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "needs_help": self.needs_help}
        if self.msgid is not None:
            data["msgid"] = self.msgid
        if self.labels:
            data["labels"] = dict(self.labels)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Choice:
        return cls(data["label"], bool(data.get("needs_help")), data.get("msgid"), dict(data.get("labels") or {}))


@dataclass(frozen=True)
class Question:
    choices: tuple[Choice, ...]
    allows_note: bool = False  # a short free-text note with the answer (sealed)

    @property
    def is_acknowledgement(self) -> bool:
        return len(self.choices) == 1

    def choice(self, index: int) -> Choice:
        """The ``index``-th choice; a UserError for one the question does not have (a forged link)."""
        if not 0 <= index < len(self.choices):
            raise UserError(_("That answer is not one of the choices. Please choose again."))
        return self.choices[index]

    def needs_help(self) -> frozenset[int]:
        return frozenset(i for i, choice in enumerate(self.choices) if choice.needs_help)

    def to_json(self) -> dict[str, Any]:
        return {"choices": [c.to_json() for c in self.choices], "note": self.allows_note}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Question:
        return cls(tuple(Choice.from_json(c) for c in data["choices"]), bool(data.get("note")))


def _builtin(label: str, msgid: str, *, needs_help: bool = False) -> Choice:
    return Choice(label, needs_help, msgid)


ACKNOWLEDGEMENT = Question((_builtin("確認しました", N_("Acknowledged")),))


@dataclass(frozen=True)
class Template:
    key: str  # "safety", or "saved:<id>" for one staff saved
    name: Message | str
    question: Question


BUILTIN_TEMPLATES: tuple[Template, ...] = (
    Template(
        "safety",
        _("Safety confirmation"),
        Question(
            (
                _builtin("無事です", N_("We are safe")),
                _builtin("けがをしています", N_("Injured"), needs_help=True),
                _builtin("迎えが必要です", N_("Needs to be collected"), needs_help=True),
                _builtin("連絡がとれません", N_("Cannot reach my child"), needs_help=True),
            )
        ),
    ),
    Template(
        "pickup",
        _("Collecting children"),
        Question(
            (
                _builtin("学校で待機", N_("Wait at school")),
                _builtin("迎えに行く", N_("I will collect my child")),
                _builtin("祖父母が迎えに行く", N_("A grandparent will collect my child")),
            )
        ),
    ),
    Template(
        "attendance",
        _("Attendance"),
        Question((_builtin("出席", N_("Will attend")), _builtin("欠席", N_("Will be absent")))),
    ),
)


async def templates() -> list[Template]:
    """The built-in templates, then those staff saved, by name."""
    saved = [
        Template(f"saved:{row.id}", row.name, Question.from_json(row.question))
        for row in await QuestionTemplate.all().order_by("name")
    ]
    return [*BUILTIN_TEMPLATES, *saved]


def question_of(broadcast: Broadcast) -> Question | None:
    """What ``broadcast`` asks; None when it asks nothing."""
    if not broadcast.ack_requested:
        return None
    return Question.from_json(broadcast.question) if broadcast.question else ACKNOWLEDGEMENT


def written_question(labels: Sequence[str], needs_help: Sequence[bool], *, allows_note: bool = False) -> Question:
    """A question from staff's form: the non-empty labels, in order; a UserError for too few, too
    many or too long. A label unchanged from a built-in choice keeps its translations."""
    known = {c.label: c for t in BUILTIN_TEMPLATES for c in t.question.choices}
    choices: list[Choice] = []
    for label, helps in zip(labels, needs_help, strict=True):
        label = " ".join(label.split())
        if not label:
            continue
        if len(label) > LABEL_LIMIT:
            raise UserError(_("An answer can be at most %(num)d characters long.", num=LABEL_LIMIT))
        builtin = known.get(label)
        choices.append(Choice(label, helps, builtin.msgid if builtin else None))
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise UserError(_("A question needs %(least)d to %(most)d answers.", least=MIN_CHOICES, most=MAX_CHOICES))
    if len({c.label for c in choices}) != len(choices):
        raise UserError(_("Two answers are the same. Please make each answer different."))
    return Question(tuple(choices), allows_note)
