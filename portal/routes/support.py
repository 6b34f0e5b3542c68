"""The support desk: find a guardian, reset the password, unlock, replace a lost tag."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core import support
from core.errors import NotFound, UserError
from core.models import ContactAddress, Guardian, Pupil, Site, SiteKind
from portal.deps import PasswordsDep, SupportDesk, staff_actor
from portal.params import ChosenSite, ClassName, FreeText, Grade, GuardianId, GuardianLoginId, PupilId, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/support", dependencies=[Depends(csrf_protect)])


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
    searched = any((login_id, name, school))
    results = (
        await support.find_guardians(
            login_id=login_id,
            name=name,
            school_id=school,
            grade=grade,
            class_name=class_name,
        )
        if searched
        else []
    )
    for guardian in results:
        await guardian.fetch_related("pupils")
    return page(
        request,
        "support/search.html",
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
    return page(
        request,
        "support/guardian.html",
        status_code=status_code,
        guardian=guardian,
        pupils=pupils,
        addresses=addresses,
        problems=await support.delivery_problems(guardian.id),
        **extra,
    )


@router.get("/guardians/{guardian_id}")
async def account(request: Request, guardian_id: GuardianId, staff: SupportDesk) -> Response:
    return await _account_page(request, await _guardian(guardian_id))


@router.post("/guardians/{guardian_id}/reset-password")
async def reset_password(
    request: Request,
    guardian_id: GuardianId,
    staff: SupportDesk,
    passwords: PasswordsDep,
    reason: Annotated[FreeText, Form()] = "",
) -> Response:
    guardian = await _guardian(guardian_id)
    try:
        password = await support.reset_password(guardian, passwords=passwords, actor=staff_actor(staff), reason=reason)
    except UserError as error:
        return await _account_page(request, guardian, 400, error=str(error))
    return page(request, "support/new_password.html", guardian=guardian, password=password)


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
        return await _account_page(request, guardian, 400, error=str(error))
    return await _account_page(request, guardian, notice="ロックを解除しました。 The account is unlocked.")


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
        return await _account_page(request, guardian, 400, error=str(error))
    return RedirectResponse(f"/support/guardians/{guardian.id}", status_code=303)
