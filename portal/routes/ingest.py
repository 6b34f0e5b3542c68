"""The ingest API the gates speak (see core.wire): passages with their stills, and heartbeats.

Every answer to bad input is a 4xx with a ``Problem`` body saying why; a gate keeps an entry it
was refused with 401, 403, 404, 408, 429 or a 5xx, and sets aside one refused with another 4xx.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from core.config import Settings
from core.gate_clock import implausible
from core.gate_health import gate_for_key, record_heartbeat
from core.models import Gate
from core.passages import is_jpeg, record_passage
from core.wire import (
    EVENT_PART,
    HEARTBEAT_PATH,
    PASSAGES_PATH,
    PHOTO_PART,
    Heartbeat,
    PassageAccepted,
    PassageEvent,
    Problem,
)

router = APIRouter()

PROBLEM_TYPE = "application/problem+json"
EVENT_LIMIT = 16 * 1024  # the event part and the multipart framing around the photo


class Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        Problem(detail=detail).model_dump(), status_code=status, media_type=PROBLEM_TYPE, headers=headers
    )


async def current_gate(request: Request) -> Gate:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    gate = await gate_for_key(key.strip()) if scheme.lower() == "bearer" else None
    if gate is None:
        raise Refused(401, "a valid gate key is needed", {"WWW-Authenticate": "Bearer"})
    return gate


GateDep = Annotated[Gate, Depends(current_gate)]


@router.post(PASSAGES_PATH)
async def post_passage(request: Request, gate: GateDep) -> Response:
    settings: Settings = request.app.state.settings
    limit = settings.photos.max_bytes
    form = await _form(request)  # at most limit + EVENT_LIMIT bytes (portal.body_limit)
    event = await _event(form.get(EVENT_PART))
    photo = await _photo(form.get(PHOTO_PART), limit)
    recorded = await record_passage(gate, event, photo, settings)
    accepted = PassageAccepted(passage_id=recorded.passage.id, duplicate=recorded.duplicate)
    return JSONResponse(accepted.model_dump(), status_code=200 if recorded.duplicate else 201)


@router.post(HEARTBEAT_PATH)
async def post_heartbeat(request: Request, gate: GateDep) -> Response:
    body = await request.body()  # at most EVENT_LIMIT bytes (portal.body_limit)
    try:
        heartbeat = Heartbeat.model_validate_json(body)
    except ValidationError as exc:
        raise Refused(422, f"heartbeat: {_reason(exc)}") from None
    _check_clock("heartbeat", sent_at=heartbeat.sent_at, reader_last_byte_at=heartbeat.reader_last_byte_at)
    await record_heartbeat(gate, heartbeat)
    return Response(status_code=204)


async def _form(request: Request) -> FormData:
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise Refused(411, "the request needs a Content-Length")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise Refused(422, "the body must be multipart/form-data with an event part")
    try:
        return await request.form(max_files=2, max_fields=2, max_part_size=EVENT_LIMIT)
    except HTTPException as exc:  # Starlette's answer to malformed multipart
        raise Refused(422, f"malformed multipart body: {exc.detail}") from None


async def _event(part: UploadFile | str | None) -> PassageEvent:
    if part is None:
        raise Refused(422, f"the {EVENT_PART} part is missing")
    raw = await part.read() if isinstance(part, UploadFile) else part
    try:
        event = PassageEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise Refused(422, f"event: {_reason(exc)}") from None
    _check_clock("event", seen_at=event.seen_at)
    return event


def _check_clock(what: str, **moments: datetime | None) -> None:
    for name, moment in moments.items():
        reason = implausible(moment) if moment is not None else None
        if reason:
            raise Refused(422, f"{what}: {name}: {reason}")


async def _photo(part: UploadFile | str | None, limit: int) -> bytes | None:
    if part is None:
        return None
    if not isinstance(part, UploadFile):
        raise Refused(422, f"the {PHOTO_PART} part must be a file (image/jpeg)")
    if (part.content_type or "").split(";")[0].strip().lower() != "image/jpeg":
        raise Refused(422, f"the photo must be image/jpeg, not {part.content_type or 'untyped'}")
    data = await part.read(limit + 1)
    if len(data) > limit:
        raise Refused(413, f"the photo is larger than {limit} bytes")
    if not is_jpeg(data):
        raise Refused(422, "the photo is not a JPEG")
    return data


def _reason(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


async def answer_refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return problem(exc.status, exc.detail, exc.headers)
