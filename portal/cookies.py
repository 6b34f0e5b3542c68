"""The portal's cookies: session, device (for login throttling), language."""

from __future__ import annotations

from fastapi import Request, Response

from core.sessions import ABSOLUTE, OpenedSession
from portal.deps import SESSION_COOKIE
from portal.language import LANGUAGE_COOKIE
from portal.security import is_tls

DEVICE_COOKIE = "mimamori_device"


def set_session_cookie(request: Request, response: Response, opened: OpenedSession) -> None:
    request.state.session = opened.session
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_tls(request),
        path="/",
    )


def set_device_cookie(request: Request, response: Response, kind: str, value: str) -> None:
    response.set_cookie(
        f"{DEVICE_COOKIE}_{kind}",
        value,
        max_age=180 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=is_tls(request),
        path="/",
    )


def set_language_cookie(request: Request, response: Response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=is_tls(request),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
