"""The answers to a broadcast's question as a spreadsheet (CSV): one row per pupil in scope.

UTF-8 with a byte-order mark, so Excel opens the Japanese as Japanese; every cell goes through
``core.spreadsheet`` (a name or a note beginning with ``=`` is text, not a formula). Written a page
of pupils at a time, so a city's 120,000 rows never sit in memory as models at once.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Collection
from typing import cast

from core import channels, zones
from core.broadcasts.answers import PORTAL
from core.broadcasts.questions import question_of
from core.broadcasts.tally import scoped
from core.i18n import Message, _
from core.i18n.languages import ORIGINAL
from core.models import Broadcast, BroadcastAnswer, Guardian, Language, Pupil
from core.spreadsheet import SpreadsheetWriter

BOM = "\ufeff"
CHUNK = 1000
_HEADERS: tuple[Message, ...] = (
    _("School"),
    _("Grade"),
    _("Class"),
    _("Pupil"),
    _("Their answer"),
    _("Needs help"),
    _("Note"),
    _("Answered at"),
    _("Answered by (login ID)"),
    _("Answered through"),
)


def via_label(via: str | None, language: Language) -> str:
    """Where an answer was given, as people say it: a channel's name, or the portal."""
    if via is None:
        return ""
    return _("the portal").translate(language) if via == PORTAL else channels.label(via, language)


async def answer_sheet(
    broadcast: Broadcast, *, school_ids: Collection[int] | None, language: Language = ORIGINAL
) -> AsyncIterator[str]:
    """The CSV text, a piece at a time: the headers in ``language``, then each pupil in scope (only
    ``school_ids``' when given) by school, grade, class, with their counted answer if any."""
    question = question_of(broadcast)
    out = io.StringIO()
    writer = SpreadsheetWriter(out, lineterminator="\r\n")
    writer.writerow(h.translate(language) for h in _HEADERS)
    yield BOM + _taken(out)
    if question is None:
        return
    labels = [c.label_in(language)[0] for c in question.choices]
    helps = question.needs_help()
    yes = _("yes").translate(language)
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    ids = cast(
        list[int],
        await (await scoped(broadcast, school_ids))
        .order_by("school_id", "grade", "class_name", "id")
        .values_list("id", flat=True),
    )
    for start in range(0, len(ids), CHUNK):
        found = await Pupil.filter(id__in=ids[start : start + CHUNK]).prefetch_related("school")
        for pupil, answer, login in await _answered(broadcast, found):
            chosen = answer.choice if answer is not None and 0 <= answer.choice < len(labels) else None
            writer.writerow(
                [
                    pupil.school.name,
                    pupil.grade,
                    pupil.class_name,
                    pupil.name,
                    labels[chosen] if chosen is not None else "",
                    yes if chosen in helps else "",
                    answer.note if answer is not None else "",
                    zones.local(answer.answered_at, pupil.school).strftime("%Y-%m-%d %H:%M") if answer else "",
                    login or "",
                    via_label(answer.channel, language) if answer is not None else "",
                ]
            )
        yield _taken(out)


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


async def _answered(broadcast: Broadcast, found: list[Pupil]) -> list[tuple[Pupil, BroadcastAnswer | None, str | None]]:
    """``found`` by school, grade, class and id, each with its counted answer and who gave it."""
    answers = {
        a.pupil_id: a
        for a in await BroadcastAnswer.filter(broadcast_id=broadcast.id, pupil_id__in=[p.id for p in found])
    }
    logins = dict(
        await Guardian.filter(id__in=[a.guardian_id for a in answers.values() if a.guardian_id] or [0]).values_list(
            "id", "login_id"
        )
    )
    ordered = sorted(found, key=lambda p: (p.school_id, p.grade, p.class_name, p.id))
    return [
        (p, answers.get(p.id), logins.get(a.guardian_id) if (a := answers.get(p.id)) and a.guardian_id else None)
        for p in ordered
    ]
