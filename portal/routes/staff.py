"""Staff pages: the menu, broadcasts (compose, preview, confirm, status), passages, gate health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core import broadcasts, zones
from core.delivery.outbox import expiry
from core.errors import UserError
from core.models import (
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    Gate,
    NoticeKind,
    Passage,
    PassageOutcome,
    Site,
    StaffAccount,
    StaffRole,
)
from core.staff_links import LINK_CODE_LIFETIME, issue_staff_link_code
from portal.deps import AnyStaff, Broadcaster, staff_actor
from portal.params import BroadcastId, Count, Day, FreeText, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff", dependencies=[Depends(csrf_protect)])
STATUS_REFRESH_SECONDS = 5
CATEGORY_LABELS = {
    BroadcastCategory.SUSPICIOUS_PERSON: "不審者情報 Suspicious person",
    BroadcastCategory.DISASTER: "災害情報 Disaster",
    BroadcastCategory.CLOSURE: "休校・休園 Closure",
    BroadcastCategory.GENERAL: "お知らせ General",
}


@router.get("")
async def menu(request: Request, staff: AnyStaff) -> Response:
    return page(request, "staff/menu.html", staff=staff)


async def _own_sites(staff: StaffAccount) -> list[Site]:
    if staff.role is StaffRole.ADMIN:
        return await Site.all().order_by("name")
    return await staff.sites.all().order_by("name")


async def _may_see(staff: StaffAccount, broadcast: Broadcast) -> bool:
    """Admins see every broadcast, staff those they could have sent (core.broadcasts' rule)."""
    try:
        await broadcasts.check_scope_allowed(staff, broadcasts.Scope.from_json(broadcast.scope))
    except UserError:
        return False
    return True


async def _visible_broadcast(staff: StaffAccount, broadcast_id: int) -> Broadcast:
    broadcast = await Broadcast.get_or_none(id=broadcast_id)
    if broadcast is None or not await _may_see(staff, broadcast):
        raise HTTPException(404)
    return broadcast


# ---- broadcasts ----------------------------------------------------------------------------------


async def _compose_page(
    request: Request,
    staff: StaffAccount,
    status_code: int = 200,
    error: str | None = None,
    **form: Any,
) -> Response:
    sites = await _own_sites(staff)
    recent = [b for b in await Broadcast.all().order_by("-id").limit(50) if await _may_see(staff, b)]
    form.setdefault("scope", "" if staff.role is StaffRole.ADMIN else (sites[0].name if sites else ""))
    return page(
        request,
        "staff/compose.html",
        status_code=status_code,
        staff=staff,
        sites=sites,
        categories=CATEGORY_LABELS,
        recent=recent[:20],
        form=form,
        error=error,
    )


@router.get("/broadcasts")
async def compose(request: Request, staff: Broadcaster) -> Response:
    return await _compose_page(request, staff)


@router.post("/broadcasts")
async def create_draft(
    request: Request,
    staff: Broadcaster,
    scope: Annotated[FreeText, Form()] = "",
    category: Annotated[Word, Form()] = "",
    title: Annotated[FreeText, Form()] = "",
    body: Annotated[FreeText, Form()] = "",
    ack: Annotated[Word, Form()] = "",
) -> Response:
    form = {"scope": scope, "category": category, "title": title, "body": body, "ack": bool(ack)}
    try:
        draft = await broadcasts.create_draft(
            author=staff,
            scope=await broadcasts.parse_scope(scope),
            category=BroadcastCategory(category),
            title=title,
            body=body,
            ack_requested=bool(ack),
            actor=staff_actor(staff),
        )
    except ValueError:
        return await _compose_page(request, staff, 400, error="種別を選んでください。 Choose a category.", **form)
    except UserError as error:
        return await _compose_page(request, staff, 400, error=str(error), **form)
    return RedirectResponse(f"/staff/broadcasts/{draft.id}/preview", status_code=303)


@router.get("/broadcasts/{broadcast_id}/preview")
async def preview(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    broadcast = await _visible_broadcast(staff, broadcast_id)
    if broadcast.status is not BroadcastStatus.DRAFT:
        return RedirectResponse(f"/staff/broadcasts/{broadcast_id}", status_code=303)
    read_quota = getattr(request.app.state, "line_quota", None)  # set by serve when LINE is configured
    quota = await read_quota() if read_quota else None
    shown = await broadcasts.preview(broadcast_id, request.app.state.settings, line_quota=quota)
    return page(
        request,
        "staff/preview.html",
        preview=shown,
        broadcast=broadcast,
        category=CATEGORY_LABELS[broadcast.category],
        channels=list(Channel),
    )


@router.get("/broadcasts/{broadcast_id}/preview/email", response_class=HTMLResponse)
async def preview_email(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    """The mail's HTML part exactly as sent; sandboxed, as it carries its own inline styles."""
    await _visible_broadcast(staff, broadcast_id)
    shown = await broadcasts.preview(broadcast_id, request.app.state.settings)
    response = HTMLResponse(shown.samples[Channel.EMAIL].html or "")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response


@router.post("/broadcasts/{broadcast_id}/confirm")
async def confirm(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    await _visible_broadcast(staff, broadcast_id)
    try:
        await broadcasts.confirm(broadcast_id, by=staff, actor=staff_actor(staff))
    except UserError as error:
        raise HTTPException(409, str(error)) from None
    return RedirectResponse(f"/staff/broadcasts/{broadcast_id}", status_code=303)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    await _visible_broadcast(staff, broadcast_id)
    try:
        await broadcasts.cancel(broadcast_id, by=staff, actor=staff_actor(staff))
    except UserError as error:
        raise HTTPException(409, str(error)) from None
    return RedirectResponse("/staff/broadcasts", status_code=303)


@router.get("/broadcasts/{broadcast_id}")
async def status(
    request: Request,
    broadcast_id: BroadcastId,
    staff: Broadcaster,
    resent: Count | None = None,
) -> Response:
    broadcast = await _visible_broadcast(staff, broadcast_id)
    counts = await broadcasts.status(broadcast_id)
    live = counts.fanning_out or counts.pending or (broadcast.ack_requested and _within_expiry(request, broadcast))
    return page(
        request,
        "staff/status.html",
        counts=counts,
        broadcast=broadcast,
        live=live,
        refresh=STATUS_REFRESH_SECONDS,
        category=CATEGORY_LABELS[broadcast.category],
        resent=resent,
    )


def _within_expiry(request: Request, broadcast: Broadcast) -> bool:
    """Acknowledgements keep arriving while the broadcast is current: keep the counts live."""
    if broadcast.confirmed_at is None:
        return False
    ends = expiry(NoticeKind.BROADCAST, broadcast.confirmed_at, request.app.state.settings.delivery)
    return ends is not None and datetime.now(UTC) < ends


@router.post("/broadcasts/{broadcast_id}/resend")
async def resend(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    await _visible_broadcast(staff, broadcast_id)
    settings = request.app.state.settings
    queued = await broadcasts.resend_unreached(broadcast_id, settings, by=staff, actor=staff_actor(staff))
    return RedirectResponse(f"/staff/broadcasts/{broadcast_id}?resent={queued}", status_code=303)


# ---- passages and gates --------------------------------------------------------------------------


@router.get("/passages")
async def passages(request: Request, staff: Broadcaster, day: Day = None, problems: Word = "") -> Response:
    sites = await _own_sites(staff)
    chosen = day or datetime.now(zones.zone(request.app.state.settings.timezone)).date()
    query = Passage.filter(zones.on_local_day(sites, chosen, "seen_at"))
    if problems:
        query = query.filter(
            outcome__in=[PassageOutcome.UNKNOWN_TAG, PassageOutcome.LOST_TAG, PassageOutcome.RETIRED_TAG]
        )
    rows = await query.order_by("-seen_at").limit(500).prefetch_related("site", "pupil", "gate")
    return page(request, "staff/passages.html", rows=rows, day=chosen.isoformat(), problems=bool(problems), sites=sites)


@router.get("/chat-link")
async def chat_link(request: Request, staff: Broadcaster) -> Response:
    return page(request, "staff/chat_link.html", code=None, minutes=_link_minutes())


@router.post("/chat-link")
async def issue_chat_link(request: Request, staff: Broadcaster) -> Response:
    """A one-time code the staff member sends to the bot to link that chat to this account."""
    code = await issue_staff_link_code(staff.id)
    response = page(request, "staff/chat_link.html", code=code, minutes=_link_minutes())
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_minutes() -> int:
    return int(LINK_CODE_LIFETIME.total_seconds() // 60)


@router.get("/gates")
async def gates(request: Request, staff: Broadcaster) -> Response:
    sites = await _own_sites(staff)
    rows = (
        await Gate.filter(site_id__in=[s.id for s in sites] or [0], revoked_at__isnull=True)
        .order_by("site_id", "name")
        .prefetch_related("site")
    )
    return page(request, "staff/gates.html", gates=rows, now=datetime.now(UTC))
