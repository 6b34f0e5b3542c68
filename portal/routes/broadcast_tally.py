"""Staff following the answers to a broadcast's question: the tally on its status page, the pupils
behind each number, closing the question, sending again to the unanswered, the CSV and a printable view.

Staff of a school see their own pupils only; administrators (the board) see every pupil in scope.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from core import broadcasts, categories
from core.broadcasts.answer_sheet import answer_sheet, via_label
from core.broadcasts.tally import PAGE_SIZE, REACH_LABELS, SHOW_LABELS, Show, Where, pupils, shown, tally
from core.errors import UserError
from core.models import Broadcast, StaffAccount, StaffRole
from portal.deps import Broadcaster, staff_actor
from portal.language import language_of
from portal.params import BroadcastId, ChosenSite, ClassName, Count, Grade, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff/broadcasts", dependencies=[Depends(csrf_protect)])
NEEDS_HELP_SHOWN = 20  # on the status page; the rest behind a link
PRINTED = 2000  # pupils on the printable view; more is what the CSV is for
REFRESH_SECONDS = (10, 30, 60)
ClassQuery = Annotated[ClassName | None, Query(alias="class")]


async def _asking(staff: StaffAccount, broadcast_id: int) -> Broadcast:
    """The broadcast, if it asks a question and ``staff`` may follow it; else 404."""
    broadcast = await Broadcast.get_or_none(id=broadcast_id)
    if broadcast is None or broadcasts.question_of(broadcast) is None:
        raise HTTPException(404)
    if not await broadcasts.may_see(staff, broadcasts.Scope.from_json(broadcast.scope)):
        raise HTTPException(404)
    return broadcast


async def school_ids(staff: StaffAccount) -> Collection[int] | None:
    """Whose pupils ``staff`` sees: their own schools', or everyone's for an administrator."""
    if staff.role is StaffRole.ADMIN:
        return None
    return {site.id for site in await staff.sites.all()}


async def tally_context(staff: StaffAccount, broadcast: Broadcast) -> dict[str, Any]:
    """What the status page shows of the answers: the tally and the first "needs help" pupils."""
    if broadcasts.question_of(broadcast) is None:
        return {"tally": None}
    own = await school_ids(staff)
    helped, helped_total = await pupils(
        broadcast, Show.NEEDS_HELP, school_ids=own, viewer=staff, limit=NEEDS_HELP_SHOWN
    )
    return {
        "tally": await tally(broadcast, school_ids=own),
        "needs_help": helped,
        "needs_help_total": helped_total,
        "reach_labels": REACH_LABELS,
        "via_label": via_label,
    }


@router.get("/{broadcast_id}/pupils")
async def pupil_list(
    request: Request,
    broadcast_id: BroadcastId,
    staff: Broadcaster,
    show: Word = Show.ALL.value,
    school: ChosenSite = None,
    grade: Grade = None,
    class_name: ClassQuery = None,
    page_number: Annotated[Count, Query(alias="page")] = 0,
    refresh: Count | None = None,
) -> Response:
    broadcast = await _asking(staff, broadcast_id)
    question = broadcasts.question_of(broadcast)
    assert question is not None  # _asking
    chosen = shown(show, question)
    where = Where(school, grade, class_name)
    rows, total = await pupils(
        broadcast,
        chosen,
        where=where,
        school_ids=await school_ids(staff),
        viewer=staff,
        offset=page_number * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    here = {"show": chosen if isinstance(chosen, int) else chosen.value, **where.query()}
    every = refresh if refresh in REFRESH_SECONDS else None
    response = page(
        request,
        "staff/answer_pupils.html",
        broadcast=broadcast,
        question=question,
        show=chosen,
        show_labels=SHOW_LABELS,
        where=where,
        here=here,
        rows=rows,
        total=total,
        page_number=page_number,
        pages=(total + PAGE_SIZE - 1) // PAGE_SIZE,
        reach_labels=REACH_LABELS,
        via_label=via_label,
        refresh=every,
        refresh_choices=REFRESH_SECONDS,
    )
    if every is not None:
        response.headers["Refresh"] = str(every)
    return response


@router.post("/{broadcast_id}/close")
async def close(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    await _asking(staff, broadcast_id)
    await broadcasts.close_question(broadcast_id, by=staff)
    return RedirectResponse(f"/staff/broadcasts/{broadcast_id}?closed=1", status_code=303)


@router.post("/{broadcast_id}/resend-unanswered")
async def resend_unanswered(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    await _asking(staff, broadcast_id)
    try:
        queued = await broadcasts.resend_unanswered(
            broadcast_id, request.app.state.settings, by=staff, actor=staff_actor(staff)
        )
    except UserError as error:
        return page(request, "error.html", status_code=409, message=error.message)
    return RedirectResponse(f"/staff/broadcasts/{broadcast_id}?resent={queued}", status_code=303)


@router.get("/{broadcast_id}/answers.csv")
async def answers_csv(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    broadcast = await _asking(staff, broadcast_id)
    sheet = answer_sheet(broadcast, school_ids=await school_ids(staff), language=language_of(request, staff))

    async def encoded() -> AsyncIterator[bytes]:
        async for piece in sheet:
            yield piece.encode("utf-8")

    return StreamingResponse(
        encoded(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="answers-{broadcast_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/{broadcast_id}/print")
async def printable(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    """The tally and the pupils behind it (needs help first, then the unanswered), to print and file."""
    broadcast = await _asking(staff, broadcast_id)
    own = await school_ids(staff)
    lists = []
    for wanted in (Show.NEEDS_HELP, Show.UNANSWERED):
        rows, total = await pupils(broadcast, wanted, school_ids=own, viewer=staff, limit=PRINTED)
        lists.append((wanted, rows, total))
    return page(
        request,
        "staff/answers_print.html",
        broadcast=broadcast,
        category=categories.label(broadcast.category),
        tally=await tally(broadcast, school_ids=own),
        lists=lists,
        show_labels=SHOW_LABELS,
        reach_labels=REACH_LABELS,
        via_label=via_label,
        printed=PRINTED,
        now=datetime.now(UTC),
    )
