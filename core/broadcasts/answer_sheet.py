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
from core.broadcasts.tally import scoped
from core.i18n import Message, _
from core.i18n.languages import ORIGINAL
from core.models import Broadcast, BroadcastAnswer, Language, Pupil, Site
from core.questions import question_of
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
    sites = {site.id: site for site in await Site.all()}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        pupils = {
            row[0]: row
            for row in await Pupil.filter(id__in=chunk).values_list("id", "school_id", "grade", "class_name", "name")
        }
        answers = {
            row[0]: row
            for row in await BroadcastAnswer.filter(broadcast_id=broadcast.id, pupil_id__in=chunk).values_list(
                "pupil_id", "choice", "note", "answered_at", "guardian__login_id", "channel"
            )
        }
        for pupil_id in chunk:
            school_id, grade, class_name, name = pupils[pupil_id][1:]
            site = sites[school_id]
            choice, note, at, login, via = (answers.get(pupil_id) or (None,) * 6)[1:]
            chosen = choice if choice is not None and 0 <= choice < len(labels) else None
            writer.writerow(
                [
                    site.name,
                    grade,
                    class_name,
                    name,
                    labels[chosen] if chosen is not None else "",
                    yes if chosen in helps else "",
                    note,
                    zones.local(at, site).strftime("%Y-%m-%d %H:%M") if at else "",
                    login,
                    via_label(via, language),
                ]
            )
        yield _taken(out)


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
