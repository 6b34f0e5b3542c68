"""Security headers on every answer, and the CSRF check on every form post."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, Response

from portal.deps import current_session

PRE_SESSION_COOKIE = "mimamori_pre"  # carries the CSRF token of forms shown before login
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
MACHINE_PATHS = ("/api/", "/hooks/")  # the gates' ingest API and the chat webhooks: no pages
_NO_SESSION_PATHS = ("/static/", *MACHINE_PATHS)
HSTS = "max-age=31536000; includeSubDomains"


def is_tls(request: Request) -> bool:
    """True when the browser speaks HTTPS to us (directly, or to the proxy in front)."""
    return request.url.scheme == "https"


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    pre = request.cookies.get(PRE_SESSION_COOKIE)
    request.state.pre_csrf = pre if pre and len(pre) >= 32 else secrets.token_urlsafe(24)
    is_page = not request.url.path.startswith(_NO_SESSION_PATHS)
    if is_page:
        await current_session(request)  # every page shows the right CSRF token and logout button
    response = await call_next(request)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)  # a stricter one set by the route stays
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"  # photo and acknowledgement URLs must not leak
    headers["X-Content-Type-Options"] = "nosniff"
    if not request.url.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"  # pages are personal
    if is_tls(request):
        headers["Strict-Transport-Security"] = HSTS
    if is_page and pre != request.state.pre_csrf:
        response.set_cookie(
            PRE_SESSION_COOKIE, request.state.pre_csrf, httponly=True, samesite="lax",
            secure=is_tls(request), path="/",
        )
    return response


async def csrf_protect(request: Request) -> None:
    """Every state-changing form carries the token of its session (or of the pre-login cookie)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    session = await current_session(request)
    expected = session.csrf_token if session is not None else request.cookies.get(PRE_SESSION_COOKIE)
    form = await request.form()
    sent = form.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "フォームの有効期限が切れました。もう一度お試しください。 The form expired: please try again.")
