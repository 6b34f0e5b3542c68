"""A guardian's pages: home, photos, addresses, preferences, acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core import actors, audit, preferences, throttle, unsubscribe, zones
from core.addresses import AddressAlreadyRegistered, AddressLimitReached, remove_own_address
from core.broadcasts import PORTAL, answer, answer_by_token
from core.broadcasts.answers import children_of
from core.channels import spec
from core.delivery.broadcast_message import text_for
from core.errors import UserError
from core.i18n import Message, _
from core.i18n.languages import language_or_default
from core.models import (
    AddressStatus,
    Broadcast,
    BroadcastAnswer,
    Channel,
    ContactAddress,
    Delivery,
    Guardian,
    Language,
    NoticeKind,
    Passage,
    Photo,
    Pupil,
)
from core.photos import open_photo, views_of
from core.registration import (
    Outcome,
    issue_link_code,
    own_unused_code,
    request_verification,
    verify_with_code,
)
from portal.deps import CurrentGuardian, PhotoViewer, current_session
from portal.language import language_of, reader_language
from portal.params import AckToken, AddressId, BroadcastId, FreeText, PhotoToken, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(dependencies=[Depends(csrf_protect)])
HISTORY_DAYS = 30
VERIFICATION_MAILS = throttle.ThrottlePolicy(free_attempts=5, base_delay=timedelta(minutes=1))


@router.get("/home")
async def home(request: Request, guardian: CurrentGuardian) -> Response:
    pupils = await guardian.pupils.all().prefetch_related("school").order_by("grade", "id")
    since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    passages = (
        await Passage.filter(pupil_id__in=[p.id for p in pupils] or [0], seen_at__gte=since)
        .order_by("-seen_at")
        .prefetch_related("site", "pupil")
        .limit(500)
    )
    photos = {
        p.passage_id: p
        for p in await Photo.filter(
            passage_id__in=[p.id for p in passages] or [0], expires_at__gt=datetime.now(UTC)
        ).only("id", "passage_id", "token", "expires_at")
    }
    todays: list[Passage] = []
    history: list[Passage] = []
    for passage in passages:
        (todays if zones.is_today(passage.seen_at, passage.site) else history).append(passage)
    return page(
        request,
        "guardian/home.html",
        guardian=guardian,
        pupils=pupils,
        today=todays,
        history=history,
        not_seen_today=_not_seen(pupils, todays),
        not_seen_lately=_not_seen(pupils, history),
        photos=photos,
        broadcasts=await _alerts_of(guardian, since, language_of(request, guardian)),
        history_days=HISTORY_DAYS,
    )


def _not_seen(pupils: list[Pupil], passages: list[Passage]) -> list[Pupil]:
    """The children with no passage among ``passages``, when a sibling has one (else the section
    says "nothing" for everyone)."""
    seen = {p.pupil_id for p in passages}
    return [pupil for pupil in pupils if pupil.id not in seen] if seen else []


@dataclass(frozen=True)
class Alert:
    """A broadcast as its guardian reads it on the portal: in their language, or the Japanese framed."""

    broadcast: Broadcast
    title: str
    body: str
    framed: bool
    acknowledged_at: datetime | None

    @classmethod
    def of(cls, broadcast: Broadcast, language: Language, acknowledged_at: datetime | None) -> Alert:
        title, body, framed = text_for(broadcast, language)
        return cls(broadcast, title, body, framed, acknowledged_at)

    @property
    def waiting(self) -> bool:
        """Asks to be acknowledged and is not yet: shown first."""
        return self.broadcast.ack_requested and self.acknowledged_at is None


async def _alerts_of(guardian: Guardian, since: datetime, language: Language) -> list[Alert]:
    acks = await _acknowledged(guardian, since)
    broadcasts = await Broadcast.filter(id__in=set(acks) or {0}).order_by("-confirmed_at")
    alerts = [Alert.of(b, language, acks[b.id]) for b in broadcasts]
    return sorted(alerts, key=lambda alert: not alert.waiting)  # stable: newest first within each


async def _acknowledged(guardian: Guardian, since: datetime) -> dict[int, datetime | None]:
    """Each broadcast sent to ``guardian`` since ``since``, and when they acknowledged it (or None)."""
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    ids = set(
        cast(
            list[int],
            await Delivery.filter(guardian_id=guardian.id, kind=NoticeKind.BROADCAST, queued_at__gte=since).values_list(
                "broadcast_id", flat=True
            ),
        )
    )
    acknowledged: dict[int, datetime] = {}
    for broadcast_id, answered_at in await BroadcastAnswer.filter(
        broadcast_id__in=ids or {0}, pupil_id__in=await children_of(guardian.id) or [0]
    ).values_list("broadcast_id", "answered_at"):
        acknowledged[broadcast_id] = max(answered_at, acknowledged.get(broadcast_id, answered_at))
    return {broadcast_id: acknowledged.get(broadcast_id) for broadcast_id in ids}


@router.post("/broadcasts/{broadcast_id}/ack")
async def acknowledge_on_portal(request: Request, broadcast_id: BroadcastId, guardian: CurrentGuardian) -> Response:
    try:
        await answer(broadcast_id, guardian.id, 0, via=PORTAL)
    except UserError:
        raise HTTPException(404) from None
    return RedirectResponse("/home", status_code=303)


@router.get("/ack/{token}")
async def acknowledge_form(request: Request, token: AckToken) -> Response:
    return await _ack_page(request, token)


@router.post("/ack/{token}")
async def acknowledge_by_link(request: Request, token: AckToken) -> Response:
    # The link's token is the credential: no login, so a parent can confirm from any phone.
    if await answer_by_token(token, 0) is None:
        raise HTTPException(404)
    return await _ack_page(request, token, done=True)


async def _acknowledged_at(broadcast_id: int, guardian_id: int) -> datetime | None:
    answered = (
        await BroadcastAnswer.filter(broadcast_id=broadcast_id, pupil_id__in=await children_of(guardian_id) or [0])
        .order_by("-answered_at")
        .first()
    )
    return answered.answered_at if answered else None


async def _ack_page(request: Request, token: str, done: bool = False) -> Response:
    delivery = await Delivery.get_or_none(ack_token=token).prefetch_related("broadcast", "guardian")
    if delivery is None or delivery.broadcast is None or delivery.guardian is None:
        raise HTTPException(404)
    language = reader_language(request, delivery.guardian.language)
    answered = await _acknowledged_at(delivery.broadcast.id, delivery.guardian.id)
    alert = Alert.of(delivery.broadcast, language, answered)
    return page(request, "guardian/ack.html", token=token, alert=alert, done=done, language=language)


# ---- photos --------------------------------------------------------------------------------------


@router.get("/photos/{token}")
async def photo_page(request: Request, token: PhotoToken, viewer: PhotoViewer) -> Response:
    photo = await open_photo(token, viewer)
    if photo is None:
        raise HTTPException(404)
    passage = await Passage.get(id=photo.passage_id).prefetch_related("site", "pupil")
    views = await views_of(photo, me=viewer.guardian) if viewer.guardian else []
    return page(request, "guardian/photo.html", photo=photo, passage=passage, views=views)


@router.get("/photos/{token}/image")
async def photo_image(request: Request, token: PhotoToken, viewer: PhotoViewer) -> Response:
    photo = await open_photo(token, viewer, record=False)
    if photo is None:
        raise HTTPException(404)
    return Response(photo.jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


# ---- addresses -----------------------------------------------------------------------------------

# What the page says after an action that redirected to it (so a reload repeats nothing).
DONE: dict[str, Message] = {
    "removed": _("The address is removed: notices no longer go to it."),
    "cancelled": _("The address waiting for confirmation is cancelled."),
    "resumed": _("Broadcasts go to this address again."),
}


async def _address_page(request: Request, guardian: Guardian, status_code: int = 200, **extra: Any) -> Response:
    addresses = (
        await ContactAddress.filter(guardian_id=guardian.id).exclude(status=AddressStatus.PENDING).order_by("slot")
    )
    pending = await ContactAddress.filter(guardian_id=guardian.id, status=AddressStatus.PENDING).order_by("id")
    limit = request.app.state.settings.accounts.max_addresses
    return page(
        request,
        "guardian/addresses.html",
        status_code=status_code,
        addresses=addresses,
        pending=pending,
        limit=limit,
        full=len(addresses) + len(pending) >= limit,
        **extra,
    )


def _at_limit(limit: int) -> Message:
    return _("At most %(limit)d addresses: remove one, or cancel one waiting for confirmation, first.", limit=limit)


@router.get("/addresses")
async def addresses(request: Request, guardian: CurrentGuardian, done: Word = "") -> Response:
    return await _address_page(request, guardian, notice=DONE.get(done))


@router.get("/register/{code}")
async def register_from_notice(request: Request, code: Word, guardian: CurrentGuardian) -> Response:
    """Where the printed notice's QR code leads; a stranger is sent to log in first."""
    own = await own_unused_code(guardian.id, code)
    if own is not None:
        return await _address_page(
            request,
            guardian,
            chat_code=own,
            notice=_("Register where notices go: add a mail address here, or send the code below to the bot."),
        )
    return await _address_page(
        request,
        guardian,
        notice=_("The code in this QR code is used, or belongs to another account: add an address here."),
    )


@router.post("/addresses")
async def add_email(request: Request, guardian: CurrentGuardian, email: Annotated[FreeText, Form()] = "") -> Response:
    email = spec(Channel.EMAIL).normalise(email)
    sending = f"verification-mail:{guardian.id}"  # a guardian cannot make us mail strangers at will
    if await throttle.wait_before_next(sending):
        return await _address_page(request, guardian, 429, error=_("Too many confirmation mails: wait a while."))
    if not spec(Channel.EMAIL).valid(email):
        return await _address_page(request, guardian, 400, error=_("Check the mail address."))
    try:
        await request_verification(guardian.id, Channel.EMAIL, email, request.app.state.settings)
    except AddressLimitReached as full:
        return await _address_page(request, guardian, 400, error=_at_limit(full.limit))
    except AddressAlreadyRegistered:
        return await _address_page(request, guardian, 400, error=_("This address is already registered."))
    await throttle.record_failure(sending, VERIFICATION_MAILS)
    await audit.record(
        actors.guardian(guardian),
        "address.add",
        target=f"guardian:{guardian.id}",
        details={"channel": Channel.EMAIL.value},
    )
    return await _address_page(
        request,
        guardian,
        notice=_("We sent a confirmation mail to %(address)s: open its link to finish.", address=email),
    )


@router.post("/addresses/chat-code")
async def chat_code(request: Request, guardian: CurrentGuardian) -> Response:
    limit = request.app.state.settings.accounts.max_addresses
    if await ContactAddress.filter(guardian_id=guardian.id).count() >= limit:
        return await _address_page(request, guardian, 400, error=_at_limit(limit))
    code = await issue_link_code(guardian.id)
    await audit.record(actors.guardian(guardian), "registration_code.issue", target=f"guardian:{guardian.id}")
    return await _address_page(request, guardian, chat_code=code)


@router.get("/addresses/{address_id}/remove")
async def remove_address_form(request: Request, address_id: AddressId, guardian: CurrentGuardian) -> Response:
    """Removing an address stops the notices to it: asked once more on a page of its own (no script)."""
    address = await ContactAddress.get_or_none(id=address_id, guardian_id=guardian.id)
    if address is None:
        raise HTTPException(404)
    return page(request, "guardian/remove_address.html", address=address)


@router.post("/addresses/{address_id}/remove")
async def remove_address(request: Request, address_id: AddressId, guardian: CurrentGuardian) -> Response:
    if not await remove_own_address(guardian.id, address_id, via="portal"):
        raise HTTPException(404)
    return RedirectResponse("/addresses?done=removed", status_code=303)


@router.post("/addresses/{address_id}/cancel")
async def cancel_address(request: Request, address_id: AddressId, guardian: CurrentGuardian) -> Response:
    if not await remove_own_address(guardian.id, address_id, via="portal", pending_only=True):
        raise HTTPException(404)
    return RedirectResponse("/addresses?done=cancelled", status_code=303)


@router.post("/addresses/{address_id}/resume-broadcasts")
async def resume_broadcasts(request: Request, address_id: AddressId, guardian: CurrentGuardian) -> Response:
    if not await unsubscribe.resume_broadcasts(guardian.id, address_id, via="portal"):
        raise HTTPException(404)
    return RedirectResponse("/addresses?done=resumed", status_code=303)


# ---- confirming an address from its link ---------------------------------------------------------
# The link was mailed to the new address only: whoever opens it holds that address (the second
# parent, on their own phone), so it needs no login. Without one it confirms that address and
# shows nothing of the family.


async def _guardian_or_none(request: Request) -> Guardian | None:
    session = await current_session(request)
    if session is None or session.guardian_id is None:
        return None
    guardian = await Guardian.get_or_none(id=session.guardian_id)
    request.state.account = guardian
    return guardian


def _opener(request: Request) -> str:
    return request.client.host if request.client else "unknown"


REFUSED: dict[Outcome, Message] = {
    Outcome.THROTTLED: _("Too many attempts: wait a while."),
    Outcome.ALREADY_REGISTERED: _("This address is already registered."),
}


def _link_language(request: Request, guardian: Guardian | None, lang: str) -> dict[str, Any]:
    """Without a login, the page is in the language the link names (the family's), unless the
    visitor chose one here."""
    if guardian is not None:
        return {}
    return {"language": reader_language(request, language_or_default(lang)), "lang": lang}


@router.get("/verify/{code}")
async def verify_form(request: Request, code: Word, lang: Word = "") -> Response:
    guardian = await _guardian_or_none(request)
    return page(
        request, "guardian/verify.html", code=code, by_link=guardian is None, **_link_language(request, guardian, lang)
    )


@router.post("/verify")
async def verify(request: Request, code: Annotated[Word, Form()] = "", lang: Annotated[Word, Form()] = "") -> Response:
    guardian = await _guardian_or_none(request)
    shown = _link_language(request, guardian, lang)
    limit = request.app.state.settings.accounts.max_addresses
    if guardian is not None:
        result = await verify_with_code(code, limit=limit, guardian_id=guardian.id)
    else:
        result = await verify_with_code(code, limit=limit, opener=_opener(request))
    if guardian is not None and result.outcome in (Outcome.REGISTERED, Outcome.AT_LIMIT):
        if result.outcome is Outcome.REGISTERED:
            return await _address_page(request, guardian, notice=_("The address is registered."))
        return await _address_page(request, guardian, 409, error=_at_limit(limit))
    if result.outcome is Outcome.REGISTERED:
        return page(request, "guardian/verify.html", code=code, by_link=True, done=True, **shown)
    error = REFUSED.get(result.outcome, _("The code is wrong or expired."))
    if result.outcome is Outcome.AT_LIMIT:
        error = _(
            "The family already has %(limit)d addresses. Ask whoever holds the family's login to remove one"
            " on the portal, then open this link again.",
            limit=limit,
        )
    return page(
        request, "guardian/verify.html", status_code=400, code=code, by_link=guardian is None, error=error, **shown
    )


# ---- preferences ---------------------------------------------------------------------------------


@router.get("/preferences")
async def preferences_form(request: Request, guardian: CurrentGuardian) -> Response:
    return page(request, "guardian/preferences.html", guardian=guardian)


@router.post("/preferences")
async def preferences_save(
    request: Request,
    guardian: CurrentGuardian,
    paused: Annotated[Word, Form()] = "",
    quiet_start: Annotated[Word, Form()] = "",
    quiet_end: Annotated[Word, Form()] = "",
    language: Annotated[Word, Form()] = "ja",
    photos_in_chat: Annotated[Word, Form()] = "",
    attendance_alerts: Annotated[Word, Form()] = "",
) -> Response:
    try:
        await preferences.update_preferences(
            guardian, paused=bool(paused), quiet_start=quiet_start, quiet_end=quiet_end, language=language
        )
        await preferences.set_photos_in_chat(guardian, bool(photos_in_chat), via="portal")
        await preferences.set_attendance_alerts(guardian, bool(attendance_alerts), via="portal")
    except UserError as error:
        return page(request, "guardian/preferences.html", status_code=400, guardian=guardian, error=error.message)
    return page(request, "guardian/preferences.html", guardian=guardian, notice=_("Saved."))
