"""Security headers on every answer, and the CSRF check on every form post."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import _
from portal.deps import current_session

PRE_SESSION_COOKIE = "mimamori_pre"  # carries the CSRF token of forms shown before login
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SERVICE_WORKER = "/sw.js"  # portal.routes.webpush


def csp_with_script(request: Request, script: str) -> str:
    """The CSP of the one page that runs a script of ours: that file alone (a source with a path
    matches that file only) and the service worker it registers; still no inline script."""
    origin = str(request.base_url).rstrip("/")
    return CSP.replace("script-src 'none'", f"script-src {origin}{script}; worker-src {origin}{SERVICE_WORKER}")


MACHINE_PATHS = ("/api/", "/hooks/")  # the gates' ingest API and the chat webhooks: no pages
_NO_SESSION_PATHS = ("/static/", "/chat-photos/", *MACHINE_PATHS)  # chat photos: fetched by LINE
HSTS = "max-age=31536000; includeSubDomains"
# Posted by mail providers, not from our forms: RFC 8058's one-click unsubscribe carries no token of
# ours and no session, so its router leaves ``csrf_protect`` out; the link's own token is the credential.
CSRF_EXEMPT = ("/unsubscribe/",)


def is_tls(request: Request) -> bool:
    """True when the browser speaks HTTPS to us (directly, or to the proxy in front)."""
    return request.url.scheme == "https"


class SecurityHeaders:
    """Security headers on every answer, and the pre-login CSRF cookie on pages.

    A plain ASGI middleware: ``@app.middleware("http")`` would run each request in a task of its
    own and stream the body through memory channels, which cost the ingest more than parsing it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # its state is the scope's: the route's request sees it
        pre = request.cookies.get(PRE_SESSION_COOKIE)
        request.state.pre_csrf = pre if pre and len(pre) >= 32 else secrets.token_urlsafe(24)
        is_page = not request.url.path.startswith(_NO_SESSION_PATHS)
        if is_page:
            try:
                await current_session(request)  # every page shows the right CSRF token and logout button
            except Exception:
                pass  # not cached: the route meets it again inside, where portal.last_resort answers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(request, MutableHeaders(scope=message), is_page=is_page, pre=pre)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add_headers(request: Request, headers: MutableHeaders, *, is_page: bool, pre: str | None) -> None:
    headers.setdefault("Content-Security-Policy", CSP)  # a stricter one set by the route stays
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"  # photo and acknowledgement URLs must not leak
    headers["X-Content-Type-Options"] = "nosniff"
    if not request.url.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"  # pages are personal
    if is_tls(request):
        headers["Strict-Transport-Security"] = HSTS
    if is_page and pre != request.state.pre_csrf:
        cookie = Response()
        cookie.set_cookie(
            PRE_SESSION_COOKIE,
            request.state.pre_csrf,
            httponly=True,
            samesite="lax",
            secure=is_tls(request),
            path="/",
        )
        headers.append("set-cookie", cookie.headers["set-cookie"])


async def csrf_protect(request: Request) -> None:
    """Every state-changing form carries the token of its session (or of the pre-login cookie)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    session = await current_session(request)
    expected = session.csrf_token if session is not None else request.cookies.get(PRE_SESSION_COOKIE)
    form = await request.form()
    sent = form.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, _("The form expired: please try again."))
