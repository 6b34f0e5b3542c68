"""Answering a broadcast's question on the portal: from a notice's link, or logged in.

``/ack/<token>`` is the link mail carries (and old mails' acknowledgement link): the token is the
credential, so a parent answers from any phone without logging in. Its GET records nothing (mail
scanners open links); the page's forms POST, with the pre-login CSRF token as every form before
login. ``/broadcasts/<id>/answer`` is the same page and form for the logged-in guardian (the home
page's buttons post there; ``/ack`` is the acknowledgement form of pages shown before).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core.broadcasts import PORTAL, Asked, answer, asked, asked_by_token
from core.errors import UserError
from core.i18n import Message, _
from core.models import Guardian, Language
from portal.alerts import Alert, chosen_index, chosen_pupils
from portal.deps import CurrentGuardian
from portal.language import reader_language
from portal.params import AckToken, BroadcastId, FreeText, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(dependencies=[Depends(csrf_protect)])
Choice = Annotated[Word, Form()]
Note = Annotated[FreeText, Form()]


@router.get("/ack/{token}")
async def answer_form(request: Request, token: AckToken) -> Response:
    return await _token_page(request, token)


@router.post("/ack/{token}")
async def answer_by_link(
    request: Request, token: AckToken, choice: Choice = "", pupil: Choice = "", note: Note = ""
) -> Response:
    found = await asked_by_token(token)
    if found is None:
        raise HTTPException(404)
    try:
        index = chosen_index(choice, found.question)
        answered = await answer(
            found.broadcast.id,
            found.guardian_id,
            index,
            via=found.via or PORTAL,
            pupil_ids=chosen_pupils(pupil),
            note=note,
            found=found,
        )
    except UserError as refusal:
        return await _token_page(request, token, found, status_code=400, error=refusal.message)
    return await _token_page(request, token, answered, notice=_recorded(found))


@router.get("/broadcasts/{broadcast_id}/answer")
async def answer_on_portal_form(request: Request, broadcast_id: BroadcastId, guardian: CurrentGuardian) -> Response:
    found = await asked(broadcast_id, guardian.id)
    if found is None:
        raise HTTPException(404)
    return _page(request, found, guardian.language, action=f"/broadcasts/{broadcast_id}/answer")


@router.post("/broadcasts/{broadcast_id}/answer")
@router.post("/broadcasts/{broadcast_id}/ack")
async def answer_on_portal(
    request: Request,
    broadcast_id: BroadcastId,
    guardian: CurrentGuardian,
    choice: Choice = "",
    pupil: Choice = "",
    note: Note = "",
) -> Response:
    found = await asked(broadcast_id, guardian.id)
    if found is None:
        raise HTTPException(404)
    try:
        index = chosen_index(choice, found.question)
        await answer(
            broadcast_id, guardian.id, index, via=PORTAL, pupil_ids=chosen_pupils(pupil), note=note, found=found
        )
    except UserError as refusal:
        action = f"/broadcasts/{broadcast_id}/answer"
        return _page(request, found, guardian.language, action=action, status_code=400, error=refusal.message)
    return RedirectResponse("/home?done=answered", status_code=303)


async def _token_page(
    request: Request,
    token: str,
    found: Asked | None = None,
    *,
    status_code: int = 200,
    error: Message | None = None,
    notice: Message | None = None,
) -> Response:
    """The answer page of ``token``, from ``found`` when the caller has just read (or answered) it."""
    found = found or await asked_by_token(token)
    if found is None:
        raise HTTPException(404)
    owner = await Guardian.get(id=found.guardian_id).only("id", "language")
    language = reader_language(request, owner.language)
    action = f"/ack/{token}"
    return _page(request, found, language, action=action, status_code=status_code, error=error, notice=notice)


def _page(
    request: Request,
    found: Asked,
    language: Language,
    *,
    action: str,
    status_code: int = 200,
    error: Message | None = None,
    notice: Message | None = None,
) -> Response:
    alert = Alert.of(found.broadcast, language, found)
    return page(
        request,
        "guardian/ack.html",
        status_code,
        alert=alert,
        action=action,
        language=language,
        error=error,
        notice=notice,
    )


def _recorded(found: Asked) -> Message:
    if found.question.is_acknowledgement:
        return _("Thank you: your acknowledgement is recorded.")
    return _("Thank you: your answer is recorded.")
