"""The portal as an installable app (web push): its manifest and its service worker.

Both are at the root: a worker's scope is at most its own directory, and it must see every page
to open the one a notification names. The addresses page registers the worker and subscribes the
device with one script (portal/static/webpush/subscribe.js), the only script the portal runs
(portal.routes.guardian takes the subscription).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from core import sealing
from core.channels import spec
from core.channels.webpush import Subscription
from core.i18n import _
from core.models import Channel
from portal.params import FreeText, Word
from portal.security import SERVICE_WORKER, csp_with_script

router = APIRouter()
STATIC = Path(__file__).parent.parent / "static" / "webpush"
SUBSCRIBE_SCRIPT = "/static/webpush/subscribe.js"
THEME = "#1f6f4a"  # the favicon's green


@router.get("/manifest.webmanifest")
async def manifest() -> Response:
    return JSONResponse(
        {
            "name": "見守り",
            "short_name": "見守り",
            "lang": "ja",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME,
            "background_color": "#ffffff",
            "icons": [
                {"src": "/static/webpush/icon.svg", "type": "image/svg+xml", "sizes": "any"},
                {"src": "/static/webpush/icon-192.png", "type": "image/png", "sizes": "192x192"},
                {"src": "/static/webpush/icon-512.png", "type": "image/png", "sizes": "512x512"},
                {"src": "/static/webpush/icon-512.png", "type": "image/png", "sizes": "512x512", "purpose": "maskable"},
            ],
        },
        media_type="application/manifest+json",
    )


@router.get(SERVICE_WORKER)
async def service_worker() -> Response:
    # Browsers check a worker for updates at most daily whatever the cache says; no-cache makes it prompt.
    return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def offer(request: Request) -> tuple[str, str] | None:
    """What a page offering "Notify this device" gives its form: the (id, public key) of the VAPID
    key new subscriptions are made with; None when web push is off or the keyring has no key."""
    ring = sealing.installed().keyring
    if not spec(Channel.WEBPUSH).enabled(request.app.state.settings.webpush) or ring.vapid_current is None:
        return None
    return ring.vapid_current, ring.vapid_public_key(ring.vapid_current)


def with_script(request: Request, response: Response) -> Response:
    """The page runs the subscribe script: its CSP allows that file and the worker."""
    response.headers["Content-Security-Policy"] = csp_with_script(request, SUBSCRIBE_SCRIPT)
    return response


UNREADABLE = _("This device's subscription could not be read: reload the page and try again.")


async def _posted(subscription: Annotated[FreeText, Form()] = "", key_id: Annotated[Word, Form()] = "") -> str | None:
    """The address a posted "Notify this device" form makes (None: it is none, or names a key we do
    not hold)."""
    try:
        value = Subscription.from_browser(subscription, key_id).value()
    except ValueError:
        return None
    return value if key_id in sealing.installed().keyring.vapid_keys else None


PostedDevice = Annotated[str | None, Depends(_posted)]
