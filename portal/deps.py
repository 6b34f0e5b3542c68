"""Who is asking: the session behind the cookie, and the role checks routes depend on."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from core import actors, sealing
from core.i18n import _
from core.models import Guardian, PortalSession, StaffAccount, StaffRole
from core.passwords import Passwords
from core.photos import Viewer
from core.sessions import find_session

SESSION_COOKIE = "mimamori_session"
_UNSET = object()
staff_actor = actors.staff  # the routes' name for it (an assignment, so mypy sees it exported)


class Redirect(Exception):
    """Raised by a dependency to send the browser elsewhere (login, password change, TOTP)."""

    def __init__(self, location: str) -> None:
        self.location = location


async def current_session(request: Request) -> PortalSession | None:
    cached = getattr(request.state, "session", _UNSET)
    if cached is _UNSET:
        cached = await find_session(request.cookies.get(SESSION_COOKIE))
        request.state.session = cached
    return cached  # type: ignore[return-value]  # request.state holds what find_session gave


def passwords(request: Request) -> Passwords:
    found = getattr(request.app.state, "passwords", None)
    if found is None:
        found = request.app.state.passwords = Passwords(request.app.state.settings.accounts, sealing.installed())
    return found


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (``//evil``, ``/\\evil``, ``https:``)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not any(ord(c) < 32 or c == "\x7f" for c in target)
    ):
        return target
    return default


def with_next(path: str, target: str) -> str:
    """``path?next=target``, the target encoded so its own query string survives."""
    return f"{path}?next={quote(target, safe='/')}"


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def _logged_in(request: Request, login_path: str) -> PortalSession:
    session = await current_session(request)
    if session is None:
        raise Redirect(with_next(login_path, _here(request)))
    return session


async def _guardian_of(request: Request, session: PortalSession) -> Guardian:
    guardian = await Guardian.get(id=session.guardian_id)
    if guardian.must_change_password:
        raise Redirect(with_next("/password", _here(request)))
    request.state.account = guardian
    return guardian


async def _staff_of(request: Request, session: PortalSession) -> StaffAccount:
    staff = await StaffAccount.get_or_none(id=session.staff_id, disabled_at__isnull=True)
    if staff is None:
        raise Redirect("/staff/login")
    if not session.second_factor_done:
        raise Redirect(with_next("/staff/totp", _here(request)))
    if staff.must_change_password:
        raise Redirect(with_next("/password", _here(request)))
    request.state.account = staff
    return staff


async def require_guardian(request: Request) -> Guardian:
    session = await _logged_in(request, "/login")
    if session.guardian_id is None:
        raise HTTPException(403, _("This page is for guardians."))
    return await _guardian_of(request, session)


async def require_viewer(request: Request) -> Viewer:
    """A guardian, or any staff account (whether it may see a given photo is core.photos' call)."""
    session = await _logged_in(request, "/login")
    if session.guardian_id is not None:
        return Viewer(guardian=await _guardian_of(request, session))
    return Viewer(staff=await _staff_of(request, session))


async def _require_staff(request: Request, roles: set[StaffRole]) -> StaffAccount:
    session = await _logged_in(request, "/staff/login")
    if session.staff_id is None:
        raise HTTPException(403, _("This page is for staff."))
    staff = await _staff_of(request, session)
    if staff.role not in roles:
        raise HTTPException(403, _("Your role does not allow this."))
    return staff


async def require_any_staff(request: Request) -> StaffAccount:
    return await _require_staff(request, set(StaffRole))


async def require_broadcaster(request: Request) -> StaffAccount:
    return await _require_staff(request, {StaffRole.STAFF, StaffRole.ADMIN})


async def require_support(request: Request) -> StaffAccount:
    return await _require_staff(request, {StaffRole.SUPPORT, StaffRole.ADMIN})


async def require_admin(request: Request) -> StaffAccount:
    return await _require_staff(request, {StaffRole.ADMIN})


CurrentGuardian = Annotated[Guardian, Depends(require_guardian)]
PhotoViewer = Annotated[Viewer, Depends(require_viewer)]
AnyStaff = Annotated[StaffAccount, Depends(require_any_staff)]
Broadcaster = Annotated[StaffAccount, Depends(require_broadcaster)]
SupportDesk = Annotated[StaffAccount, Depends(require_support)]
Admin = Annotated[StaffAccount, Depends(require_admin)]
PasswordsDep = Annotated[Passwords, Depends(passwords)]
