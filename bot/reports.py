"""Absence, lateness and leaving-early reports made with a chat's buttons.

欠席/遅刻/早退 → child (skipped with one child; "all" is one step) → today or tomorrow (a range is the
portal's) → reason → for late and early the time (and who collects) → a confirmation with Send and
Cancel. Nothing is stored until Send: every button carries the whole state (core.buttons.Report),
so a chat's half-made report needs no row and an old button still says what it meant. Send calls
core.absences.record_reports, the one writer, whose rules and double-tap guard apply as on the portal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bot.replies import say
from core import zones
from core.absences import KIND_LABELS, REASON_LABELS, Details, Reporter, day_name, record_reports
from core.buttons import CancelReport, Report, SendReport
from core.errors import UserError
from core.i18n import Message, _, _p
from core.i18n.languages import DEFAULT as SCHOOL_LANGUAGE
from core.models import Channel, Guardian, Language, Pupil, ReportKind, ReportReason, ReportVia
from core.passages import given_name

UNSET = "-"
ALL = "all"
KINDS = {"a": ReportKind.ABSENT, "l": ReportKind.LATE, "e": ReportKind.EARLY}
TIMES = {
    ReportKind.LATE: ("0900", "0930", "1000", "1030", "1100"),
    ReportKind.EARLY: ("1100", "1200", "1300", "1400", "1500"),
}
# Who collects a pupil leaving early: written down in the school's language (staff read it).
COLLECTORS: dict[str, Message] = {"g": _("A guardian"), "gp": _("A grandparent"), "o": _("Another family member")}
VIA = {Channel.TELEGRAM: ReportVia.TELEGRAM, Channel.LINE: ReportVia.LINE}


@dataclass(frozen=True)
class Question:
    """What the chat says next: a text and its buttons (label, payload)."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Family:
    """The guardian a chat reports as (the first, if several share the chat) and their children."""

    guardian: Guardian
    pupils: list[Pupil]


async def family_of(guardian_ids: list[int]) -> Family | None:
    guardian = await Guardian.filter(id__in=guardian_ids or [0]).order_by("id").first()
    if guardian is None:
        return None
    pupils = await guardian.pupils.all().order_by("id").prefetch_related("school")
    return Family(guardian, list(pupils))


async def next_step(state: Report, family: Family, language: Language, portal_url: str) -> Question:
    """The question for the first thing ``state`` lacks, or the confirmation when nothing is lacking."""
    if not family.pupils:
        return Question(say("report_no_children", language))
    if len(family.pupils) == 1 and state.pupil == UNSET:
        state = replace(state, pupil=str(family.pupils[0].id))
    chosen = _chosen(state, family)
    if state.kind not in KINDS:
        return _ask(language, "kind", [(KIND_LABELS[k], replace(state, kind=c)) for c, k in KINDS.items()])
    if chosen is None:
        everyone: list[tuple[Message | str, Report]] = [(_("All children"), replace(state, pupil=ALL))]
        each: list[tuple[Message | str, Report]] = [
            (given_name(p.name), replace(state, pupil=str(p.id))) for p in family.pupils
        ]
        return _ask(language, "pupil", each + everyone)
    kind = KINDS[state.kind]
    if _day(state) is None:
        today = zones.today(chosen[0].school)
        days = [(today, _p("report day", "Today")), (today + timedelta(days=1), _p("report day", "Tomorrow"))]
        return _ask(
            language,
            "day",
            [(label, replace(state, day=d.strftime("%Y%m%d"))) for d, label in days],
            portal_url=portal_url,
            days=tuple(d for d, _label in days),
        )
    if _reason(state) is None:
        return _ask(language, "reason", [(m, replace(state, reason=r.value)) for r, m in REASON_LABELS.items()])
    if kind in TIMES and _at(state) is None:
        times = [(t, replace(state, at=t)) for t in TIMES[kind]]
        return _ask(language, "at_" + kind.value, times, portal_url=portal_url)
    if kind is ReportKind.EARLY and state.by not in COLLECTORS:
        return _ask(language, "by", [(m, replace(state, by=c)) for c, m in COLLECTORS.items()])
    return Question(
        say("report_confirm", language, summary=summary(state, chosen, language)),
        (
            (say("report_send_label", language), SendReport(**_fields(state)).pack()),
            (say("report_cancel_label", language), CancelReport().pack()),
        ),
    )


async def send(state: Report, family: Family, channel: Channel, language: Language) -> str:
    """Record the report ``state`` holds; the reply (the refusal's message when it is refused)."""
    chosen, day, details = _chosen(state, family), _day(state), _details(state)
    if chosen is None or day is None or details is None:
        return say("unknown_button", language)
    try:
        reports = await record_reports(chosen, details, Reporter(VIA[channel], guardian=family.guardian))
    except UserError as refusal:
        return say("report_refused", language, message=refusal.message)
    late = any(r.after_check for r in reports)
    return say("report_sent", language, summary=summary(state, chosen, language), after_check=late)


def summary(state: Report, pupils: list[Pupil], language: Language) -> str:
    """One line: who, what, when, why (the reason is shown only in the family's own chat)."""
    parts = [" ".join(given_name(p.name) for p in pupils), KIND_LABELS[KINDS[state.kind]].translate(language)]
    day = _day(state)
    if day is not None:
        parts.append(day_name(day).translate(language))
    at = _at(state)
    if at is not None:
        parts.append(at.strftime("%H:%M"))
    if _reason(state) is not None:
        parts.append(REASON_LABELS[ReportReason(state.reason)].translate(language))
    if state.by in COLLECTORS:
        parts.append(COLLECTORS[state.by].translate(language))
    return " / ".join(parts)


def _ask(
    language: Language,
    step: str,
    choices: Sequence[tuple[Message | str, Report]],
    *,
    portal_url: str = "",
    days: tuple[date, ...] = (),
) -> Question:
    buttons = tuple(
        (label.translate(language) if isinstance(label, Message) else _time_label(label), choice.pack())
        for label, choice in choices
    )
    shown_days = [day_name(d).translate(language) for d in days]
    return Question(say("report_ask", language, step=step, days=shown_days, portal_url=portal_url), buttons)


def _time_label(hhmm: str) -> str:
    return f"{int(hhmm[:2])}:{hhmm[2:]}" if hhmm.isdigit() and len(hhmm) == 4 else hhmm


def _chosen(state: Report, family: Family) -> list[Pupil] | None:
    if state.pupil == ALL:
        return family.pupils
    return [p for p in family.pupils if str(p.id) == state.pupil] or None


def _day(state: Report) -> date | None:
    try:
        return datetime.strptime(state.day, "%Y%m%d").date()
    except ValueError:
        return None


def _reason(state: Report) -> ReportReason | None:
    return next((r for r in ReportReason if r.value == state.reason), None)


def _at(state: Report) -> time | None:
    try:
        return datetime.strptime(state.at, "%H%M").time()
    except ValueError:
        return None


def _details(state: Report) -> Details | None:
    day = _day(state)
    if state.kind not in KINDS or day is None or _reason(state) is None:
        return None
    collector = COLLECTORS[state.by].translate(SCHOOL_LANGUAGE) if state.by in COLLECTORS else None
    return Details(KINDS[state.kind], day, day, ReportReason(state.reason), at_time=_at(state), collector=collector)


def _fields(state: Report) -> dict[str, str]:
    return {name: getattr(state, name) for name in ("kind", "pupil", "day", "reason", "at", "by")}
