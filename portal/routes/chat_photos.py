"""The still behind a chat's photo link, for LINE to fetch: no login, the link is the credential."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from core.channels.line_photos import open_chat_photo, preview_of
from portal.params import ChatPhotoToken

router = APIRouter()
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@router.get("/chat-photos/{token}")
async def chat_photo(token: ChatPhotoToken) -> Response:
    photo = await open_chat_photo(token)
    if photo is None:
        raise HTTPException(404)  # expired, altered or withdrawn: all look the same
    return Response(photo.jpeg, media_type="image/jpeg", headers=_HEADERS)


@router.get("/chat-photos/{token}/preview")
async def chat_photo_preview(token: ChatPhotoToken) -> Response:
    photo = await open_chat_photo(token)
    preview = await preview_of(photo.jpeg) if photo is not None else None
    if preview is None:
        raise HTTPException(404)
    return Response(preview, media_type="image/jpeg", headers=_HEADERS)
