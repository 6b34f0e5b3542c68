"""Logging in and out, the forced first password change, and staff's second factor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from core import throttle, totp
from core.errors import UserError
from core.i18n import Message, _, _n
from core.login import MIN_PASSWORD_LENGTH, AccountKind, LoginOutcome, authenticate, change_password
from core.models import Guardian, PortalSession, StaffAccount
from core.passwords import Passwords
from core.sessions import end_session, open_session
from portal.cookies import (
    DEVICE_COOKIE,
    clear_session_cookie,
    set_device_cookie,
    set_language_cookie,
    set_session_cookie,
)
from portal.deps import SESSION_COOKIE, PasswordsDep, Redirect, current_session, safe_next, with_next
from portal.params import FreeText, GuardianLoginId, PagePath, StaffLoginId, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(dependencies=[Depends(csrf_protect)])

TOTP_GUESSING = throttle.ThrottlePolicy(free_attempts=5)
_HOME = {AccountKind.GUARDIAN: "/home", AccountKind.STAFF: "/staff"}
_LOGIN_TEMPLATE = {AccountKind.GUARDIAN: "auth/login.html", AccountKind.STAFF: "auth/staff_login.html"}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
async def guardian_login_form(request: Request, next: PagePath | None = None) -> Response:
    return page(request, "auth/login.html", next=safe_next(next, "/home"))


@router.get("/staff/login")
async def staff_login_form(request: Request, next: PagePath | None = None) -> Response:
    return page(request, "auth/staff_login.html", next=safe_next(next, "/staff"))


@router.post("/login")
async def guardian_login(
    request: Request,
    passwords: PasswordsDep,
    login_id: Annotated[GuardianLoginId, Form()] = "",
    password: Annotated[FreeText, Form()] = "",
    next: Annotated[PagePath, Form()] = "",
) -> Response:
    return await _login(request, AccountKind.GUARDIAN, login_id, password, next, passwords)


@router.post("/staff/login")
async def staff_login(
    request: Request,
    passwords: PasswordsDep,
    login_id: Annotated[StaffLoginId, Form()] = "",
    password: Annotated[FreeText, Form()] = "",
    next: Annotated[PagePath, Form()] = "",
) -> Response:
    return await _login(request, AccountKind.STAFF, login_id, password, next, passwords)


async def _login(
    request: Request, kind: AccountKind, login_id: str, password: str, next: str, passwords: Passwords
) -> Response:
    target = safe_next(next, _HOME[kind])
    result = await authenticate(
        kind,
        login_id,
        password,
        client=_client(request),
        device_cookie=request.cookies.get(f"{DEVICE_COOKIE}_{kind.value}"),
        passwords=passwords,
    )
    if result.outcome is not LoginOutcome.OK:
        error: Message
        if result.outcome is LoginOutcome.THROTTLED:
            seconds = int(result.retry_after.total_seconds()) + 1 if result.retry_after else 1
            error = _n(
                "Too many attempts: try again in %(num)d second.",
                "Too many attempts: try again in %(num)d seconds.",
                seconds,
            )
        else:
            error = _("The login ID or password is wrong.")
        return page(request, _LOGIN_TEMPLATE[kind], status_code=401, next=target, error=error, login_id=login_id)
    await end_session(request.cookies.get(SESSION_COOKIE))
    account = result.account
    assert account is not None and result.device is not None  # an OK result carries both
    if isinstance(account, Guardian):
        opened = await open_session(guardian=account)
        location = with_next("/password", target) if account.must_change_password else target
    else:
        opened = await open_session(staff=account)
        location = with_next("/staff/totp", target)
    response = RedirectResponse(location, status_code=303)
    set_session_cookie(request, response, opened)
    set_device_cookie(request, response, kind.value, result.device)
    set_language_cookie(request, response, account.language.value)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = await current_session(request)
    await end_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/staff/login" if session and session.staff_id else "/login", status_code=303)
    clear_session_cookie(response)
    return response


async def _session_account(request: Request) -> tuple[PortalSession, Guardian | StaffAccount]:
    session = await current_session(request)
    if session is None:
        raise Redirect(with_next("/login", request.url.path))
    if session.guardian_id is not None:
        return session, await Guardian.get(id=session.guardian_id)
    if not session.second_factor_done:
        raise Redirect("/staff/totp")
    return session, await StaffAccount.get(id=session.staff_id)


@router.get("/password")
async def password_form(request: Request, next: PagePath | None = None) -> Response:
    _, account = await _session_account(request)
    request.state.account = account
    return page(
        request,
        "auth/password.html",
        next=safe_next(next, ""),
        forced=account.must_change_password,
        min_length=MIN_PASSWORD_LENGTH,
    )


@router.post("/password")
async def password_change(
    request: Request,
    passwords: PasswordsDep,
    current: Annotated[FreeText, Form()] = "",
    new: Annotated[FreeText, Form()] = "",
    confirm: Annotated[FreeText, Form()] = "",
    next: Annotated[PagePath, Form()] = "",
) -> Response:
    _, account = await _session_account(request)
    request.state.account = account
    try:
        await change_password(account, current, new, confirm, passwords=passwords)
    except UserError as error:
        return page(
            request,
            "auth/password.html",
            status_code=400,
            next=next,
            error=error.message,
            forced=account.must_change_password,
            min_length=MIN_PASSWORD_LENGTH,
        )
    if isinstance(account, Guardian):
        opened = await open_session(guardian=account)
        home = "/home"
    else:
        opened = await open_session(staff=account, second_factor_done=True)
        home = "/staff"
    response = RedirectResponse(safe_next(next, home), status_code=303)
    set_session_cookie(request, response, opened)
    return response


async def _staff_pending_second_factor(request: Request) -> tuple[PortalSession, StaffAccount]:
    session = await current_session(request)
    staff = None
    if session is not None and session.staff_id is not None:
        staff = await StaffAccount.get_or_none(id=session.staff_id, disabled_at__isnull=True)
    if session is None or staff is None:
        raise Redirect("/staff/login")
    return session, staff


@router.get("/staff/totp")
async def totp_form(request: Request, next: PagePath | None = None) -> Response:
    _, staff = await _staff_pending_second_factor(request)
    return await _totp_page(request, staff, safe_next(next, "/staff"))


async def _totp_page(request: Request, staff: StaffAccount, next: str, error: Message | None = None) -> Response:
    enrolling = staff.totp_enrolled_at is None
    qr = None
    if enrolling:
        secret = staff.totp_secret or await totp.begin_enrolment(staff)
        qr = totp.qr_svg(totp.provisioning_uri(secret, staff.login_id))
    return page(
        request,
        "auth/totp.html",
        status_code=401 if error else 200,
        next=next,
        error=error,
        enrolling=enrolling,
        qr=qr,
        secret=staff.totp_secret if enrolling else None,
    )


@router.post("/staff/totp")
async def totp_check(
    request: Request,
    code: Annotated[Word, Form()] = "",
    next: Annotated[PagePath, Form()] = "",
) -> Response:
    _, staff = await _staff_pending_second_factor(request)
    target = safe_next(next, "/staff")
    key = f"totp:{staff.id}"
    if await throttle.wait_before_next(key):
        return await _totp_page(request, staff, target, totp.TOO_MANY_ATTEMPTS)
    if not await totp.check_code(staff, code):
        await throttle.record_failure(key, TOTP_GUESSING)
        return await _totp_page(request, staff, target, totp.WRONG_CODE)
    await throttle.reset(key)
    await end_session(request.cookies.get(SESSION_COOKIE))  # a new token for the full session
    opened = await open_session(staff=staff, second_factor_done=True)
    location = with_next("/password", target) if staff.must_change_password else target
    response = RedirectResponse(location, status_code=303)
    set_session_cookie(request, response, opened)
    return response
