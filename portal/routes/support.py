"""The support desk: find a guardian, reset the password, unlock, replace a lost tag."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core import sealing, support
from core.errors import NotFound, UserError
from core.i18n import Message, _
from core.models import ContactAddress, Guardian, Pupil, Site, SiteKind
from core.staff_labels import ADDRESS_STATES, DELIVERY_STATES, NOTICE_KINDS, TAG_STATES
from portal.confirmation import confirmation
from portal.deps import PasswordsDep, SupportDesk, staff_actor
from portal.params import (
    AddressId,
    ChosenSite,
    ClassName,
    FreeText,
    Grade,
    GuardianId,
    GuardianLoginId,
    PupilId,
    Word,
)
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/support", dependencies=[Depends(csrf_protect)])

# The one-time password goes from the reset to the page that shows it in a cookie sealed for this
# session and guardian: a reload shows it again (for the printer) and never issues another.
SHOWN_FOR = timedelta(minutes=15)
_PASSWORD_COOKIE = "mimamori_otp"

DONE: dict[str, Message] = {
    "unlocked": _("The login is unlocked: the guardian may log in again at once."),
    "tag": _("The old tag is marked lost and will not notify anyone; the new tag works from its next passage."),
    "address": _("The address is removed: nothing is sent to it any more, and the family may register another."),
}


@router.get("")
async def search(
    request: Request,
    staff: SupportDesk,
    login_id: GuardianLoginId = "",
    name: FreeText = "",
    school: ChosenSite = None,
    grade: Grade = None,
    class_name: ClassName = "",
) -> Response:
    schools = await Site.filter(kind=SiteKind.SCHOOL).order_by("name")
    searched = any((login_id, name, school, grade is not None, class_name))
    error: Message | str | None = None
    results: list[Guardian] = []
    if searched:
        try:
            results = await support.find_guardians(
                login_id=login_id, name=name, school_id=school, grade=grade, class_name=class_name
            )
        except UserError as refused:
            error, searched = refused.message, False
    for guardian in results:
        await guardian.fetch_related("pupils")
    return page(
        request,
        "support/search.html",
        status_code=400 if error else 200,
        error=error,
        schools=schools,
        results=results,
        searched=searched,
        query={
            "login_id": login_id,
            "name": name,
            "school": _shown(school),
            "grade": _shown(grade),
            "class_name": class_name,
        },
    )


def _shown(number: int | None) -> str:
    return "" if number is None else str(number)


async def _guardian(guardian_id: int) -> Guardian:
    try:
        return await support.guardian_of(guardian_id)
    except NotFound:
        raise HTTPException(404) from None


async def _account_page(request: Request, guardian: Guardian, status_code: int = 200, **extra: Any) -> Response:
    pupils = await guardian.pupils.all().prefetch_related("school", "tags")
    addresses = await ContactAddress.filter(guardian=guardian).order_by("slot")
    wait = await support.login_wait(guardian)
    return page(
        request,
        "support/guardian.html",
        status_code=status_code,
        guardian=guardian,
        pupils=pupils,
        addresses=addresses,
        problems=await support.delivery_problems(guardian.id),
        locked_minutes=-(-int(wait.total_seconds()) // 60) if wait else 0,
        tag_states=TAG_STATES,
        address_states=ADDRESS_STATES,
        delivery_states=DELIVERY_STATES,
        notice_kinds=NOTICE_KINDS,
        **extra,
    )


@router.get("/guardians/{guardian_id}")
async def account(request: Request, guardian_id: GuardianId, staff: SupportDesk, done: Word = "") -> Response:
    return await _account_page(request, await _guardian(guardian_id), notice=DONE.get(done))


@router.post("/guardians/{guardian_id}/reset-password")
async def reset_password(
    request: Request,
    guardian_id: GuardianId,
    staff: SupportDesk,
    passwords: PasswordsDep,
    reason: Annotated[FreeText, Form()] = "",
    replacing: Annotated[Word, Form()] = "",
) -> Response:
    guardian = await _guardian(guardian_id)
    try:
        password = await support.reset_password(
            guardian, passwords=passwords, actor=staff_actor(staff), reason=reason, replacing=bool(replacing)
        )
    except support.OneTimePasswordOut as out:
        return confirmation(
            request,
            question=_("Issue another one-time password?"),
            consequence=_(
                "The one-time password given to %(name)s before stops working at once, even if it is already"
                " printed or sent.",
                name=guardian.name,
            ),
            action=f"/support/guardians/{guardian.id}/reset-password",
            fields={"reason": reason, "replacing": "1"},
            button=_("Issue another"),
            back=f"/support/guardians/{guardian.id}",
            notice=out.message,
        )
    except UserError as error:
        return await _account_page(request, guardian, 400, error=error.message)
    location = f"/support/guardians/{guardian.id}/new-password"
    response = RedirectResponse(location, status_code=303)
    response.set_cookie(
        _PASSWORD_COOKIE,
        _sealed(password, request, guardian),
        max_age=int(SHOWN_FOR.total_seconds()),
        path=location,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/guardians/{guardian_id}/new-password")
async def new_password(request: Request, guardian_id: GuardianId, staff: SupportDesk) -> Response:
    guardian = await _guardian(guardian_id)
    password = _unsealed(request.cookies.get(_PASSWORD_COOKIE, ""), request, guardian)
    response = page(
        request,
        "support/new_password.html",
        guardian=guardian,
        password=password,
        minutes=int(SHOWN_FOR.total_seconds() // 60),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _context(request: Request, guardian: Guardian) -> str:
    return f"support one-time password:{request.state.session.id}:{guardian.id}"


def _sealed(password: str, request: Request, guardian: Guardian) -> str:
    sealed = sealing.installed().seal_text(password, _context(request, guardian))
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def _unsealed(cookie: str, request: Request, guardian: Guardian) -> str | None:
    """The password this session was given for this guardian, or None (expired, or another's)."""
    if not cookie:
        return None
    try:
        return sealing.installed().unseal_text(base64.urlsafe_b64decode(cookie), _context(request, guardian))
    except (ValueError, IndexError, sealing.SealingError):  # tampered with, or sealed for another session
        return None


@router.post("/guardians/{guardian_id}/unlock")
async def unlock(
    request: Request,
    guardian_id: GuardianId,
    staff: SupportDesk,
    reason: Annotated[FreeText, Form()] = "",
) -> Response:
    guardian = await _guardian(guardian_id)
    try:
        await support.unlock(guardian, actor=staff_actor(staff), reason=reason)
    except UserError as error:
        return await _account_page(request, guardian, 400, error=error.message)
    return RedirectResponse(f"/support/guardians/{guardian.id}?done=unlocked", status_code=303)


@router.post("/guardians/{guardian_id}/pupils/{pupil_id}/replace-tag")
async def replace_tag(
    request: Request,
    guardian_id: GuardianId,
    pupil_id: PupilId,
    staff: SupportDesk,
    number: Annotated[Word, Form()] = "",
    reason: Annotated[FreeText, Form()] = "",
) -> Response:
    guardian = await _guardian(guardian_id)
    pupil = await Pupil.get_or_none(id=pupil_id, guardians__id=guardian.id)
    if pupil is None:
        raise HTTPException(404)
    try:
        await support.replace_tag(pupil, number, actor=staff_actor(staff), reason=reason)
    except UserError as error:
        return await _account_page(request, guardian, 400, error=error.message)
    return RedirectResponse(f"/support/guardians/{guardian.id}?done=tag", status_code=303)


@router.get("/guardians/{guardian_id}/addresses/{address_id}/remove")
async def confirm_remove_address(
    request: Request, guardian_id: GuardianId, address_id: AddressId, staff: SupportDesk
) -> Response:
    guardian = await _guardian(guardian_id)
    address = await ContactAddress.get_or_none(id=address_id, guardian_id=guardian.id)
    if address is None:
        raise HTTPException(404)
    return confirmation(
        request,
        question=_("Remove the address %(address)s?", address=address.value),
        consequence=_(
            "Nothing is sent to it any more, broadcasts included; to use it again the family registers it anew."
        ),
        action=f"/support/guardians/{guardian.id}/addresses/{address.id}/remove",
        reason_asked=True,
        button=_("Remove"),
        back=f"/support/guardians/{guardian.id}",
    )


@router.post("/guardians/{guardian_id}/addresses/{address_id}/remove")
async def remove_address(
    request: Request,
    guardian_id: GuardianId,
    address_id: AddressId,
    staff: SupportDesk,
    reason: Annotated[FreeText, Form()] = "",
) -> Response:
    guardian = await _guardian(guardian_id)
    try:
        await support.remove_address(guardian, address_id, actor=staff_actor(staff), reason=reason)
    except NotFound:
        raise HTTPException(404) from None
    except UserError as error:
        return await _account_page(request, guardian, 400, error=error.message)
    return RedirectResponse(f"/support/guardians/{guardian.id}?done=address", status_code=303)
