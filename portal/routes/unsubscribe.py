"""Stopping broadcasts to one address from a broadcast's unsubscribe link: no login, the link is
the credential.

A POST with RFC 8058's body ``List-Unsubscribe=One-Click`` stops them: that is what a mail
provider sends when its reader presses "unsubscribe", without a session or a CSRF token of ours
(portal.security.CSRF_EXEMPT). A GET only shows the page and its one button, because mail
scanners fetch every link they find and must not stop anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from core import unsubscribe
from core.channels import spec
from core.i18n import Message, _
from core.models import ContactAddress, Guardian
from portal.language import reader_language
from portal.params import UnsubscribeToken, Word
from portal.templating import page

router = APIRouter()
ONE_CLICK = "One-Click"  # the value of the form field List-Unsubscribe (RFC 8058 3.2)


@router.get("/unsubscribe/{token}")
async def unsubscribe_form(request: Request, token: UnsubscribeToken) -> Response:
    return await _page(request, token, await _address(token))


@router.post("/unsubscribe/{token}")
async def unsubscribe_one_click(
    request: Request,
    token: UnsubscribeToken,
    one_click: Annotated[Word, Form(alias="List-Unsubscribe")] = "",
) -> Response:
    address = await _address(token)
    if one_click != ONE_CLICK:
        return await _page(
            request,
            token,
            address,
            status_code=400,
            error=_("Please press the button again."),
        )
    await unsubscribe.stop_broadcasts(address, via="one-click")
    return await _page(request, token, address)


async def _address(token: str) -> ContactAddress:
    address = await unsubscribe.address_of(token)
    if address is None:
        raise HTTPException(404)  # a token we did not make, or its address was removed: the same answer
    return address


async def _page(
    request: Request, token: str, address: ContactAddress, status_code: int = 200, error: Message | None = None
) -> Response:
    owner = await Guardian.get(id=address.guardian_id).only("id", "language")
    return page(
        request,
        "unsubscribe.html",
        status_code=status_code,
        token=token,
        address=spec(address.channel).mask(address.value),
        channel=address.channel,
        stopped=address.broadcasts_stopped_at is not None,
        one_click=ONE_CLICK,
        error=error,
        language=reader_language(request, owner.language),
    )
