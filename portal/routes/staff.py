"""Staff pages: the menu, broadcasts (compose, preview, confirm, status), passages, gate health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core import accounts, broadcasts, categories, staff_links, zones
from core.broadcasts import question_templates
from core.delivery.outbox import expiry
from core.errors import UserError
from core.i18n import Message, _
from core.i18n.languages import LANGUAGES, ORIGINAL, language_or_default
from core.models import (
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    Gate,
    Language,
    NoticeKind,
    Passage,
    PassageOutcome,
    Site,
    StaffAccount,
    StaffRole,
)
from core.staff_labels import OUTCOMES
from core.staff_links import LINK_CODE_LIFETIME, issue_staff_link_code
from core.today import today_for
from portal.deps import AnyStaff, Broadcaster, staff_actor
from portal.params import BroadcastId, Count, Day, FreeText, Word
from portal.question_form import Asks, QuestionForm, template_named
from portal.routes import webpush
from portal.routes.broadcast_tally import tally_context
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff", dependencies=[Depends(csrf_protect)])


@router.get("")
async def menu(request: Request, staff: AnyStaff) -> Response:
    return page(
        request, "staff/menu.html", staff=staff, today=await today_for(staff), role=accounts.ROLE_LABELS[staff.role]
    )


async def _own_sites(staff: StaffAccount) -> list[Site]:
    if staff.role is StaffRole.ADMIN:
        return await Site.all().order_by("name")
    return await staff.sites.all().order_by("name")


async def _may_see(staff: StaffAccount, broadcast: Broadcast) -> bool:
    return await broadcasts.may_see(staff, broadcasts.Scope.from_json(broadcast.scope))


async def _visible_broadcast(staff: StaffAccount, broadcast_id: int) -> Broadcast:
    broadcast = await Broadcast.get_or_none(id=broadcast_id)
    if broadcast is None or not await _may_see(staff, broadcast):
        raise HTTPException(404)
    return broadcast


# ---- broadcasts ----------------------------------------------------------------------------------

TRANSLATABLE = [language for language in LANGUAGES if language is not ORIGINAL]
REFRESH_SECONDS = (10, 30, 60)  # what the status page offers; it refreshes only when asked


@dataclass
class ComposeForm:
    """What the compose form holds: as typed, to be shown again with an error."""

    targets: list[str] = field(default_factory=list)
    category: str = ""
    title: str = ""
    body: str = ""
    translations: dict[Language, tuple[str, str]] = field(default_factory=dict)
    question: QuestionForm = field(default_factory=QuestionForm)


async def _compose_page(
    request: Request,
    staff: StaffAccount,
    form: ComposeForm,
    *,
    status_code: int = 200,
    error: Message | str | None = None,
) -> Response:
    recent = [b for b in await Broadcast.all().order_by("-id").limit(50) if await _may_see(staff, b)]
    return page(
        request,
        "staff/compose.html",
        status_code=status_code,
        staff=staff,
        choices=await broadcasts.scope_choices(staff),
        categories=categories.LABELS,
        statuses=broadcasts.STATUS_LABELS,
        translatable=TRANSLATABLE,
        recent=recent[:20],
        form=form,
        asks=Asks,
        templates=await broadcasts.templates(),
        error=error,
    )


@router.get("/broadcasts")
async def compose(request: Request, staff: Broadcaster, template: Word = "") -> Response:
    own = await staff.sites.all().order_by("name") if staff.role is StaffRole.STAFF else []
    form = ComposeForm(targets=[str(own[0].id)] if len(own) == 1 else [])
    chosen = await template_named(template) if template else None
    if chosen is not None:
        form.question.filled_from(chosen)
    return await _compose_page(request, staff, form)


@router.post("/broadcasts")
async def create_draft(
    request: Request,
    staff: Broadcaster,
    target: Annotated[list[Word] | None, Form()] = None,
    category: Annotated[Word, Form()] = "",
    title: Annotated[FreeText, Form()] = "",
    body: Annotated[FreeText, Form()] = "",
    ack: Annotated[Word, Form()] = "",
    asks: Annotated[Word, Form()] = "",
    choice_label: Annotated[list[FreeText] | None, Form()] = None,
    choice_help: Annotated[list[Word] | None, Form()] = None,
    allow_note: Annotated[Word, Form()] = "",
    drill: Annotated[Word, Form()] = "",
    drill_escalates: Annotated[Word, Form()] = "",
    template_name: Annotated[FreeText, Form()] = "",
    use_template: Annotated[Word, Form()] = "",
    translation_language: Annotated[list[Word] | None, Form()] = None,
    translation_title: Annotated[list[FreeText] | None, Form()] = None,
    translation_body: Annotated[list[FreeText] | None, Form()] = None,
) -> Response:
    titles, bodies = translation_title or [], translation_body or []
    translated = {
        Language(code): (titles[n] if n < len(titles) else "", bodies[n] if n < len(bodies) else "")
        for n, code in enumerate(translation_language or [])
        if code in TRANSLATABLE
    }
    asked = QuestionForm.typed(
        asks or (Asks.ACKNOWLEDGEMENT if ack else Asks.NOTHING),
        choice_label or [],
        choice_help or [],
        allows_note=bool(allow_note),
        drill=bool(drill),
        drill_escalates=bool(drill_escalates),
        template_name=template_name,
    )
    form = ComposeForm(target or [], category, title, body, translated, asked)
    if use_template:
        chosen = await template_named(use_template)
        if chosen is not None:
            asked.filled_from(chosen)
        return await _compose_page(request, staff, form)
    if category not in {c.value for c in BroadcastCategory}:
        return await _compose_page(request, staff, form, status_code=400, error=_("Choose a category."))
    try:
        question = asked.question()
        saving = question is not None and bool(asked.template_name) and asked.asks is Asks.CHOICES
        if saving:
            await question_templates.check_new(asked.template_name)
        draft = await broadcasts.create_draft(
            author=staff,
            scope=await broadcasts.scope_from_choices(form.targets),
            category=BroadcastCategory(category),
            title=title,
            body=body,
            question=question,
            drill=asked.drill,
            drill_escalates=asked.drill_escalates,
            translated=translated,
            actor=staff_actor(staff),
        )
        if saving and question is not None:
            await question_templates.save_template(asked.template_name, question, by=staff)
    except UserError as error:
        return await _compose_page(request, staff, form, status_code=400, error=error.message)
    return RedirectResponse(f"/staff/broadcasts/{draft.id}/preview", status_code=303)


async def _preview_page(
    request: Request, broadcast: Broadcast, *, status_code: int = 200, error: Message | str | None = None
) -> Response:
    read_quota = getattr(request.app.state, "line_quota", None)  # set by serve when LINE is configured
    quota = await read_quota() if read_quota else None
    settings = request.app.state.settings
    shown = await broadcasts.preview(broadcast.id, settings, line_quota=quota)
    return page(
        request,
        "staff/preview.html",
        status_code=status_code,
        preview=shown,
        broadcast=broadcast,
        category=categories.label(broadcast.category),
        channels=list(Channel),
        escalation_minutes=settings.delivery.ack_escalation_minutes,
        question=broadcasts.question_of(broadcast),
        error=error or shown.nobody,
    )


@router.get("/broadcasts/{broadcast_id}/preview")
async def preview(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    broadcast = await _visible_broadcast(staff, broadcast_id)
    if broadcast.status is not BroadcastStatus.DRAFT:
        return RedirectResponse(f"/staff/broadcasts/{broadcast_id}", status_code=303)
    return await _preview_page(request, broadcast)


@router.get("/broadcasts/{broadcast_id}/preview/email", response_class=HTMLResponse)
async def preview_email(
    request: Request, broadcast_id: BroadcastId, staff: Broadcaster, language: Word = ORIGINAL.value
) -> Response:
    """The mail's HTML part exactly as sent in ``language``; sandboxed, as it carries its own inline styles."""
    await _visible_broadcast(staff, broadcast_id)
    shown = await broadcasts.preview(broadcast_id, request.app.state.settings)
    wanted = language_or_default(language)
    share = next((s for s in shown.languages if s.language is wanted), shown.languages[0])
    response = HTMLResponse(share.samples[Channel.EMAIL].html or "")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response


@router.post("/broadcasts/{broadcast_id}/confirm")
async def confirm(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    broadcast = await _visible_broadcast(staff, broadcast_id)
    try:
        await broadcasts.confirm(broadcast_id, by=staff, actor=staff_actor(staff))
    except UserError as error:
        if broadcast.status is not BroadcastStatus.DRAFT:
            return RedirectResponse(f"/staff/broadcasts/{broadcast_id}", status_code=303)
        return await _preview_page(request, broadcast, status_code=409, error=error.message)
    return RedirectResponse(f"/staff/broadcasts/{broadcast_id}", status_code=303)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    await _visible_broadcast(staff, broadcast_id)
    try:
        await broadcasts.cancel(broadcast_id, by=staff, actor=staff_actor(staff))
    except UserError:
        return RedirectResponse(f"/staff/broadcasts/{broadcast_id}", status_code=303)
    return RedirectResponse("/staff/broadcasts", status_code=303)


@router.get("/broadcasts/{broadcast_id}")
async def status(
    request: Request,
    broadcast_id: BroadcastId,
    staff: Broadcaster,
    resent: Count | None = None,
    refresh: Count | None = None,
    closed: Count | None = None,
) -> Response:
    broadcast = await _visible_broadcast(staff, broadcast_id)
    counts = await broadcasts.status(broadcast_id, viewer=staff)
    live = bool(
        counts.fanning_out
        or counts.pending
        or (broadcast.ack_requested and not broadcast.question_closed_at and _within_expiry(request, broadcast))
    )
    # Refreshing only when the reader asked for it, by the Refresh header: a page that reloads
    # itself unasked fails WCAG 2.2.1 (axe's "meta-refresh"), and no script runs in these pages.
    every = refresh if refresh in REFRESH_SECONDS and live else None
    response = page(
        request,
        "staff/status.html",
        counts=counts,
        broadcast=broadcast,
        live=live,
        refresh=every,
        refresh_choices=REFRESH_SECONDS,
        shows_addresses=any(
            p.addresses is not None for p in [n.person for n in counts.not_reached if n.person] + counts.unacknowledged
        ),
        category=categories.label(broadcast.category),
        statuses=broadcasts.STATUS_LABELS,
        resent=resent,
        notice=_("The question is closed.") if closed else None,
        **await tally_context(staff, broadcast),
    )
    if every is not None:
        response.headers["Refresh"] = str(every)
    return response


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
    return page(
        request,
        "staff/passages.html",
        rows=rows,
        day=chosen.isoformat(),
        problems=bool(problems),
        sites=sites,
        outcomes=OUTCOMES,
    )


@router.get("/chat-link")
async def chat_link(request: Request, staff: Broadcaster, done: Word = "") -> Response:
    response = page(
        request,
        "staff/chat_link.html",
        code=None,
        minutes=_link_minutes(),
        webpush=webpush.offer(request),
        notice=_("This device is registered: notices appear on it as notifications.") if done == "device" else None,
    )
    return webpush.with_script(request, response)


@router.post("/webpush")
async def link_device(request: Request, staff: Broadcaster, device: webpush.PostedDevice) -> Response:
    """This device's push subscription for the staff member's notices (see portal.routes.guardian.add_device)."""
    if device is None:
        return page(request, "staff/chat_link.html", 400, code=None, minutes=_link_minutes(), error=webpush.UNREADABLE)
    await staff_links.link_device(staff, device)
    return RedirectResponse("/staff/chat-link?done=device", status_code=303)


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
