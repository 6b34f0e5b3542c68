"""The question part of the staff's broadcast form: nothing, an acknowledgement, or 2–5 answers
(from a template or written), each maybe flagged as needing help; whether it is a drill.

Without scripts, a template fills the answer fields by a button of the form itself: the form comes
back with everything typed kept and the template's answers in the fields, for staff to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core import questions
from core.questions import MAX_CHOICES, Question, Template


class Asks(StrEnum):
    NOTHING = "none"
    ACKNOWLEDGEMENT = "ack"
    CHOICES = "choices"


@dataclass
class QuestionForm:
    """As typed, to be shown again with an error."""

    asks: Asks = Asks.NOTHING
    labels: list[str] = field(default_factory=lambda: [""] * MAX_CHOICES)
    helps: list[bool] = field(default_factory=lambda: [False] * MAX_CHOICES)
    allows_note: bool = False
    drill: bool = False
    drill_escalates: bool = False
    template_name: str = ""  # save the answers as a template by this name, when given

    @classmethod
    def typed(
        cls,
        asks: str,
        labels: list[str],
        helps: list[str],
        *,
        allows_note: bool,
        drill: bool,
        drill_escalates: bool,
        template_name: str,
    ) -> QuestionForm:
        """From the form's fields; ``helps`` are the indexes of the ticked "needs help" boxes."""
        # more than fit are kept (up to a bound), for the error to say so and the form to show them
        padded = labels[: 2 * MAX_CHOICES] + [""] * (MAX_CHOICES - len(labels))
        ticked = {h for h in helps if h.isdecimal() and len(h) < 3}
        kind = asks if asks in {a.value for a in Asks} else Asks.NOTHING
        return cls(
            Asks(kind),
            padded,
            [str(i) in ticked for i in range(len(padded))],
            allows_note,
            drill,
            drill and drill_escalates,
            " ".join(template_name.split()),
        )

    def filled_from(self, template: Template) -> None:
        """The template's answers in the fields (Japanese, as the broadcast is written), to edit."""
        self.asks = Asks.CHOICES
        choices = template.question.choices
        self.labels = [c.label for c in choices] + [""] * (MAX_CHOICES - len(choices))
        self.helps = [c.needs_help for c in choices] + [False] * (MAX_CHOICES - len(choices))
        self.allows_note = template.question.allows_note

    def question(self) -> Question | None:
        """What the broadcast asks; a UserError for answers that do not make a question."""
        if self.asks is Asks.NOTHING:
            return None
        if self.asks is Asks.ACKNOWLEDGEMENT:
            return questions.ACKNOWLEDGEMENT
        return questions.written_question(self.labels, self.helps, allows_note=self.allows_note)


async def template_named(key: str) -> Template | None:
    """The built-in or saved template ``key`` ("safety", "saved:3"); None for one that is gone."""
    return next((t for t in await questions.templates() if t.key == key), None)
