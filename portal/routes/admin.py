"""Administrators: sites and cut-off times, gates and their keys, staff accounts, roster import,
the audit log."""

from __future__ import annotations

import base64
from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from core import accounts, audit, staff_admin, zones
from core.accounts import ROLE_LABELS
from core.errors import NotFound, UserError
from core.i18n import Message, _
from core.models import AuditEntry, Gate, Site, SiteKind, StaffAccount, StaffRole
from core.registration_notice import render_registration_notices
from core.roster import COLUMN_HELP, COLUMNS, ENCODING_NAMES, JAPANESE_HEADERS, import_roster, template_csv
from core.staff_labels import AUDIT_ACTIONS, ROSTER_COUNTS, SITE_KINDS, audit_action, audit_reference, counted
from portal.confirmation import confirmation
from portal.deps import Admin, PasswordsDep, staff_actor
from portal.params import (
    AuditAction,
    AuditActor,
    AuditEntryId,
    AuditTarget,
    Day,
    GateId,
    GateName,
    SiteId,
    SiteName,
    StaffId,
    StaffLoginId,
    Word,
)
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
AUDIT_PAGE = 200
ROSTER_MAX_BYTES = 20 * 1024 * 1024

DONE: dict[str, Message] = {
    "site": _("The site is added."),
    "cutoff": _("The cut-off time is changed."),
    "check_time": _('The check time is changed: pupils neither seen nor reported by then are "not seen".'),
    "gate-revoked": _("The gate is revoked: its key no longer works, and its passages are refused."),
    "staff-disabled": _("The account is disabled and logged out everywhere."),
}


def _done(done: str) -> Message | None:
    return DONE.get(done)


# ---- sites ---------------------------------------------------------------------------------------


async def _sites_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    return page(
        request,
        "admin/sites.html",
        status_code=status_code,
        sites=await Site.all().order_by("name"),
        kinds=SITE_KINDS,
        **extra,
    )


def _time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise UserError(_("A time looks like 12:00 (not %(typed)s).", typed=text)) from None


@router.get("/sites")
async def sites(request: Request, admin: Admin, done: Word = "") -> Response:
    return await _sites_page(request, notice=_done(done))


@router.post("/sites")
async def add_site(
    request: Request,
    admin: Admin,
    name: Annotated[SiteName, Form()] = "",
    kind: Annotated[Word, Form()] = "school",
    cutoff: Annotated[Word, Form()] = "12:00",
) -> Response:
    try:
        site_kind = SiteKind.HALL if kind == SiteKind.HALL.value else SiteKind.SCHOOL
        await accounts.add_site(
            name,
            site_kind,
            cutoff=_time(cutoff),
            timezone=request.app.state.settings.timezone,
            actor=staff_actor(admin),
        )
    except UserError as error:
        return await _sites_page(request, 400, error=error.message)
    return RedirectResponse("/admin/sites?done=site", status_code=303)


@router.post("/sites/{site_id}/cutoff")
async def change_cutoff(
    request: Request, site_id: SiteId, admin: Admin, cutoff: Annotated[Word, Form()] = ""
) -> Response:
    return await _change_time(request, site_id, admin, "cutoff", cutoff)


@router.post("/sites/{site_id}/check-time")
async def change_check_time(
    request: Request, site_id: SiteId, admin: Admin, check_time: Annotated[Word, Form()] = ""
) -> Response:
    return await _change_time(request, site_id, admin, "check_time", check_time)


async def _change_time(request: Request, site_id: int, admin: StaffAccount, which: str, typed: str) -> Response:
    try:
        await accounts.set_site_time(site_id, which, _time(typed), actor=staff_actor(admin))
    except NotFound:
        raise HTTPException(404) from None
    except UserError as error:
        return await _sites_page(request, 400, error=error.message)
    return RedirectResponse(f"/admin/sites?done={which}", status_code=303)


# ---- gates ---------------------------------------------------------------------------------------


async def _gates_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    return page(
        request,
        "admin/gates.html",
        status_code=status_code,
        sites=await Site.all().order_by("name"),
        gates=await Gate.all().order_by("site_id", "name").prefetch_related("site"),
        **extra,
    )


@router.get("/gates")
async def gates(request: Request, admin: Admin, done: Word = "") -> Response:
    return await _gates_page(request, notice=_done(done))


@router.post("/gates")
async def add_gate(
    request: Request, admin: Admin, site: Annotated[SiteName, Form()] = "", name: Annotated[GateName, Form()] = ""
) -> Response:
    try:
        if not name.strip():
            raise UserError(_("A gate needs a name."))
        gate, key = await accounts.add_gate(site, name, actor=staff_actor(admin))
    except UserError as error:
        return await _gates_page(request, 400, error=error.message)
    return await _gates_page(request, new_gate=gate, new_key=key)


@router.get("/gates/{gate_id}/revoke")
async def confirm_revoke_gate(request: Request, gate_id: GateId, admin: Admin) -> Response:
    gate = await Gate.get_or_none(id=gate_id, revoked_at__isnull=True).prefetch_related("site")
    if gate is None:
        raise HTTPException(404)
    return confirmation(
        request,
        question=_("Revoke the gate %(gate)s at %(site)s?", gate=gate.name, site=gate.site.name),
        consequence=_(
            "Its key stops working at once: the gate's passages are refused and nobody is notified of them"
            " until a new gate is added and its key set."
        ),
        action=f"/admin/gates/{gate.id}/revoke",
        button=_("Revoke"),
        back="/admin/gates",
    )


@router.post("/gates/{gate_id}/revoke")
async def revoke_gate(request: Request, gate_id: GateId, admin: Admin) -> Response:
    if not await staff_admin.revoke_gate(gate_id, actor=staff_actor(admin)):
        raise HTTPException(404)
    return RedirectResponse("/admin/gates?done=gate-revoked", status_code=303)


# ---- staff accounts ------------------------------------------------------------------------------


async def _staff_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    people = await StaffAccount.all().order_by("login_id").prefetch_related("sites")
    return page(
        request,
        "admin/staff.html",
        status_code=status_code,
        people=people,
        roles=ROLE_LABELS,
        sites=await Site.all().order_by("name"),
        **extra,
    )


@router.get("/staff")
async def staff_accounts(request: Request, admin: Admin, done: Word = "") -> Response:
    return await _staff_page(request, notice=_done(done))


@router.post("/staff")
async def add_staff(
    request: Request,
    admin: Admin,
    passwords: PasswordsDep,
    login_id: Annotated[StaffLoginId, Form()] = "",
    role: Annotated[Word, Form()] = "",
    sites: Annotated[list[SiteName] | None, Form()] = None,
) -> Response:
    try:
        if role not in {r.value for r in StaffRole}:
            raise UserError(_("Choose a role."))
        issued = await accounts.add_staff(
            login_id.strip(), StaffRole(role), list(sites or []), passwords, actor=staff_actor(admin)
        )
    except UserError as error:
        return await _staff_page(request, 400, error=error.message)
    return await _staff_page(request, issued_login=login_id.strip(), issued_password=issued.secret)


async def _other_staff(admin: StaffAccount, staff_id: int) -> StaffAccount:
    staff = await StaffAccount.get_or_none(id=staff_id)
    if staff is None:
        raise HTTPException(404)
    if staff.id == admin.id:
        raise HTTPException(409, _("Not on your own account."))
    return staff


@router.get("/staff/{staff_id}/reset")
async def confirm_reset_staff(request: Request, staff_id: StaffId, admin: Admin) -> Response:
    staff = await _other_staff(admin, staff_id)
    return confirmation(
        request,
        question=_("Reset %(login)s's password and second factor?", login=staff.login_id),
        consequence=_(
            "Their password and authenticator app stop working at once and they are logged out everywhere;"
            " you get a one-time password to give them, and they enrol a second factor again."
        ),
        action=f"/admin/staff/{staff.id}/reset",
        button=_("Reset"),
        back="/admin/staff",
    )


@router.get("/staff/{staff_id}/disable")
async def confirm_disable_staff(request: Request, staff_id: StaffId, admin: Admin) -> Response:
    staff = await _other_staff(admin, staff_id)
    return confirmation(
        request,
        question=_("Disable %(login)s?", login=staff.login_id),
        consequence=_("They are logged out everywhere and can no longer log in, nor send alerts from a linked chat."),
        action=f"/admin/staff/{staff.id}/disable",
        button=_("Disable"),
        back="/admin/staff",
    )


@router.post("/staff/{staff_id}/reset")
async def reset_staff(request: Request, staff_id: StaffId, admin: Admin, passwords: PasswordsDep) -> Response:
    """A new one-time password and a new second factor to enrol (for a lost phone, too)."""
    staff = await _other_staff(admin, staff_id)
    password = await staff_admin.reset_staff(staff, passwords=passwords, actor=staff_actor(admin))
    return await _staff_page(
        request,
        issued_login=staff.login_id,
        issued_password=password,
        notice=_("%(login)s's password and second factor are reset.", login=staff.login_id),
    )


@router.post("/staff/{staff_id}/disable")
async def disable_staff(request: Request, staff_id: StaffId, admin: Admin) -> Response:
    staff = await _other_staff(admin, staff_id)
    await staff_admin.disable_staff(staff, actor=staff_actor(admin))
    return RedirectResponse("/admin/staff?done=staff-disabled", status_code=303)


# ---- roster --------------------------------------------------------------------------------------


@router.get("/roster")
async def roster_form(request: Request, admin: Admin) -> Response:
    return _roster_page(request)


def _roster_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    return page(
        request,
        "admin/roster.html",
        status_code=status_code,
        columns=COLUMNS,
        japanese_headers=JAPANESE_HEADERS,
        column_help=COLUMN_HELP,
        encodings=ENCODING_NAMES,
        counts=ROSTER_COUNTS,
        counted=counted,
        **extra,
    )


@router.get("/roster/template.csv")
async def roster_template(admin: Admin, encoding: Word = "utf-8-sig") -> Response:
    """An empty roster with the Japanese headers, for a spreadsheet: UTF-8 with a BOM (Excel reads
    it as UTF-8 only with one), or CP932 for older spreadsheets."""
    chosen = "cp932" if encoding == "cp932" else "utf-8-sig"
    return Response(
        template_csv(chosen),
        media_type=f"text/csv; charset={'shift_jis' if chosen == 'cp932' else 'utf-8'}",
        headers={"Content-Disposition": f'attachment; filename="roster-template-{chosen}.csv"'},
    )


@router.post("/roster")
async def roster_upload(
    request: Request,
    admin: Admin,
    passwords: PasswordsDep,
    roster: Annotated[UploadFile, File()],
    partial: Annotated[Word, Form()] = "",
) -> Response:
    data = await roster.read(ROSTER_MAX_BYTES + 1)
    if len(data) > ROSTER_MAX_BYTES:
        return _roster_page(request, 400, error=_("The file is too large."))
    settings = request.app.state.settings
    try:
        result = await import_roster(
            data,
            passwords=passwords,
            max_addresses=settings.accounts.max_addresses,
            actor=staff_actor(admin),
            timezone=settings.timezone,
            partial=bool(partial),
        )
    except UserError as error:
        return _roster_page(request, 400, error=error.message)
    notices = (
        render_registration_notices(result.new_guardians, portal_url=settings.portal.public_url)
        if result.new_guardians
        else None
    )
    return _roster_page(
        request,
        200 if result.written else 400,
        result=result,
        portal_url=settings.portal.public_url,
        notices_uri=notices and _html_data_uri(notices),
    )


def _html_data_uri(html: str) -> str:
    """The printable notices go with this one answer, as the credentials in them do: nothing
    keeps them on the server."""
    return "data:text/html;charset=utf-8;base64," + base64.b64encode(html.encode("utf-8")).decode("ascii")


# ---- audit log -----------------------------------------------------------------------------------


@router.get("/audit")
async def audit_log(
    request: Request,
    admin: Admin,
    action: AuditAction = "",
    person: AuditActor = "",
    target: AuditTarget = "",
    day: Day = None,
    before: AuditEntryId | None = None,
) -> Response:
    query = AuditEntry.all()
    if action.strip():
        query = query.filter(action__startswith=action.strip())
    if person.strip():
        query = query.filter(await audit.by_or_about(person))
    if target.strip():
        query = query.filter(target=target.strip())
    if day is not None:
        start, end = zones.day_bounds(day, zones.zone(request.app.state.settings.timezone))
        query = query.filter(at__gte=start, at__lt=end)
    if before is not None:
        query = query.filter(id__lt=before)
    entries = await query.order_by("-id").limit(AUDIT_PAGE)
    return page(
        request,
        "admin/audit.html",
        entries=entries,
        more=len(entries) == AUDIT_PAGE,
        action_label=audit_action,
        reference=audit_reference,
        actions=sorted(AUDIT_ACTIONS.items()),
        query={"action": action, "person": person, "target": target, "day": day.isoformat() if day else ""},
    )
