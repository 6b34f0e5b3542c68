"""Absence, lateness and leaving-early reports: the guardian's form, confirmation and list, staff's
report taken by phone, and the one-tap answers to a "not seen" notice (no login: the link's token
is the credential, see core.answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field as PydanticField
from pydantic import StringConstraints

from core import absences, answers
from core.absences import KIND_LABELS, REASON_LABELS, Details, Reporter
from core.errors import NotFound, UserError
from core.i18n import _
from core.models import (
    AbsenceReport,
    CheckAnswerLink,
    Guardian,
    Pupil,
    ReportKind,
    ReportReason,
    ReportVia,
    StaffAccount,
)
from portal.deps import Broadcaster, CurrentGuardian
from portal.params import FreeText, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(dependencies=[Depends(csrf_protect)])
# as portal.params bounds its ids and tokens (written out here: a name made by a call is no type to mypy)
ReportId = Annotated[int, PydanticField(ge=1, le=AbsenceReport._meta.fields_map["id"].constraints["le"])]
AnswerToken = Annotated[str, StringConstraints(max_length=CheckAnswerLink._meta.fields_map["token"].max_length)]
Field = Annotated[Word, Form()]
Text = Annotated[FreeText, Form()]
Choice = TypeVar("Choice", ReportKind, ReportReason, answers.Answer)
ALL = "all"  # the pupil choice meaning every child of the family
DONE = {
    "recorded": _("Your report has been sent to the school."),
    "changed": _("Your report has been changed."),
    "withdrawn": _("Your report has been withdrawn."),
}


@dataclass
class Typed:
    """The form as typed, to redraw it; ``details()`` reads it, refusing with a message for the form."""

    pupil: str = ""
    kind: str = ReportKind.ABSENT.value
    first_day: str = ""
    last_day: str = ""
    at_time: str = ""
    reason: str = ReportReason.ILLNESS.value
    note: str = ""
    collector: str = ""

    def details(self) -> Details:
        first = _day(self.first_day)
        return Details(
            kind=_choice(ReportKind, self.kind),
            first_day=first,
            last_day=_day(self.last_day) if self.last_day.strip() else first,
            reason=_choice(ReportReason, self.reason),
            at_time=_time(self.at_time),
            note=self.note,
            collector=self.collector,
        )

    @classmethod
    def of(cls, report: AbsenceReport) -> Typed:
        return cls(
            pupil=str(report.pupil_id),
            kind=report.kind.value,
            first_day=report.first_day.isoformat(),
            last_day=report.last_day.isoformat(),
            at_time=report.at_time.strftime("%H:%M") if report.at_time else "",
            reason=report.reason,
            note=report.note or "",
            collector=report.collector or "",
        )


async def typed_form(
    pupil: Field = "",
    kind: Field = "absent",
    first_day: Field = "",
    last_day: Field = "",
    at_time: Field = "",
    reason: Field = "illness",
    note: Text = "",
    collector: Text = "",
) -> Typed:
    return Typed(pupil, kind, first_day, last_day, at_time, reason, note, collector)


TypedForm = Annotated[Typed, Depends(typed_form)]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(_("Choose the day.")) from None


def _time(text: str) -> time | None:
    if not text.strip():
        return None
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise UserError(_("Enter the time as hours and minutes, e.g. 10:30.")) from None


def _choice(enum: type[Choice], text: str) -> Choice:
    try:
        return enum(text)
    except ValueError:
        raise UserError(_("Choose one of the options.")) from None


def _context(**extra: Any) -> dict[str, Any]:
    return {"kinds": KIND_LABELS, "reasons": REASON_LABELS, "moment": absences.moment, **extra}


# ---- the guardian's form, confirmation and list ---------------------------------------------------


async def _children(guardian: Guardian) -> list[Pupil]:
    return await guardian.pupils.all().prefetch_related("school").order_by("grade", "id")


def _chosen(children: list[Pupil], choice: str) -> list[Pupil]:
    if choice == ALL and children:
        return children
    found = [pupil for pupil in children if str(pupil.id) == choice]
    if not found and choice.isdigit():
        raise HTTPException(404)  # a pupil not theirs is no business of this page
    if not found:
        raise UserError(_("Choose the child."))
    return found


async def _form_page(
    request: Request, guardian: Guardian, typed: Typed, status_code: int = 200, **extra: Any
) -> Response:
    children = await _children(guardian)
    if not typed.pupil and len(children) == 1:
        typed.pupil = str(children[0].id)
    return page(
        request,
        "guardian/absences.html",
        status_code=status_code,
        **_context(
            children=children,
            typed=typed,
            reports=await absences.reports_of(guardian),
            now=datetime.now(UTC),
            is_open=absences.is_open,
            may_withdraw=absences.may_withdraw,
            **extra,
        ),
    )


@router.get("/absences")
async def absence_page(request: Request, guardian: CurrentGuardian, done: Word = "") -> Response:
    return await _form_page(request, guardian, Typed(), notice=DONE.get(done))


@router.post("/absences")
async def report_absence(
    request: Request, guardian: CurrentGuardian, typed: TypedForm, step: Field = "check"
) -> Response:
    """``step=check``: the confirmation page; ``step=send``: record; ``step=edit``: back to the form."""
    if step == "edit":
        return await _form_page(request, guardian, typed)
    try:
        pupils = _chosen(await _children(guardian), typed.pupil)
        details = typed.details()
        reporter = Reporter(ReportVia.PORTAL, guardian=guardian)
        if step != "send":
            await absences.check_reports(pupils, details, reporter)
            return page(
                request, "guardian/absence_confirm.html", **_context(typed=typed, pupils=pupils, details=details)
            )
        await absences.record_reports(pupils, details, reporter)
    except NotFound:
        raise HTTPException(404) from None
    except UserError as error:
        return await _form_page(request, guardian, typed, status_code=400, error=error.message)
    return RedirectResponse("/absences?done=recorded", status_code=303)


async def _open_report(guardian: Guardian, report_id: int) -> AbsenceReport:
    report = await AbsenceReport.get_or_none(id=report_id).prefetch_related("pupil", "pupil__school")
    if report is None or not await guardian.pupils.filter(id=report.pupil_id).exists():
        raise HTTPException(404)
    return report


@router.get("/absences/{report_id}/change")
async def change_page(request: Request, report_id: ReportId, guardian: CurrentGuardian) -> Response:
    report = await _open_report(guardian, report_id)
    return page(request, "guardian/absence_change.html", **_context(report=report, typed=Typed.of(report)))


@router.post("/absences/{report_id}/change")
async def change_report(request: Request, report_id: ReportId, guardian: CurrentGuardian, typed: TypedForm) -> Response:
    report = await _open_report(guardian, report_id)
    try:
        await absences.change_report(report.id, typed.details(), Reporter(ReportVia.PORTAL, guardian=guardian))
    except NotFound:
        raise HTTPException(404) from None
    except UserError as error:
        return page(
            request, "guardian/absence_change.html", 400, **_context(report=report, typed=typed, error=error.message)
        )
    return RedirectResponse("/absences?done=changed", status_code=303)


@router.post("/absences/{report_id}/withdraw")
async def withdraw_report(request: Request, report_id: ReportId, guardian: CurrentGuardian) -> Response:
    report = await _open_report(guardian, report_id)
    try:
        await absences.withdraw_report(report.id, Reporter(ReportVia.PORTAL, guardian=guardian))
    except UserError as error:
        return await _form_page(request, guardian, Typed(), status_code=400, error=error.message)
    return RedirectResponse("/absences?done=withdrawn", status_code=303)


# ---- staff: a report taken by phone --------------------------------------------------------------


async def _phone_page(
    request: Request, staff: StaffAccount, typed: Typed, status_code: int = 200, **extra: Any
) -> Response:
    return page(
        request,
        "staff/phone_report.html",
        status_code=status_code,
        **_context(
            typed=typed,
            pupils=await absences.pupils_for_staff(staff),
            taken=await absences.reports_taken_at(staff),
            **extra,
        ),
    )


@router.get("/staff/phone-report")
async def phone_report_page(request: Request, staff: Broadcaster, done: Word = "") -> Response:
    return await _phone_page(request, staff, Typed(), notice=_("The report is recorded.") if done else None)


@router.post("/staff/phone-report")
async def record_phone_report(request: Request, staff: Broadcaster, typed: TypedForm) -> Response:
    try:
        pupil = await Pupil.get_or_none(id=int(typed.pupil)) if typed.pupil.isdigit() else None
        if pupil is None:
            raise UserError(_("Choose the pupil."))
        await absences.record_reports([pupil], typed.details(), Reporter(ReportVia.STAFF, taken_by=staff))
    except UserError as error:  # a pupil of another school too: staff are told, not shown a 404
        return await _phone_page(request, staff, typed, status_code=400, error=error.message)
    return RedirectResponse("/staff/phone-report?done=1", status_code=303)


# ---- the one-tap answers to a "not seen" notice ---------------------------------------------------


@router.get("/attendance/answer/{token}")
async def answer_page(request: Request, token: AnswerToken) -> Response:
    asked = await answers.question(token)
    if asked is None:
        return page(request, "answer_gone.html", status_code=404)
    return page(request, "answer.html", **_context(asked=asked))


@router.post("/attendance/answer/{token}")
async def answer_by_link(
    request: Request, token: AnswerToken, answer: Field = "", at_time: Field = "", reason: Field = "other"
) -> Response:
    asked = await answers.question(token)
    if asked is None:
        return page(request, "answer_gone.html", status_code=404)
    try:
        choice = _choice(answers.Answer, answer)
        answered = await answers.answer(token, choice, at_time=_time(at_time), reason=_choice(ReportReason, reason))
    except UserError as error:
        return page(request, "answer.html", 400, **_context(asked=asked, error=error.message))
    if answered is None:
        return page(request, "answer_gone.html", status_code=404)
    return page(request, "answer.html", **_context(asked=answered))
