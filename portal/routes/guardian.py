"""A guardian's pages: home, photos, addresses, preferences, acknowledgements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core import actors, audit, preferences, throttle, unsubscribe, zones
from core.addresses import AddressAlreadyRegistered, AddressLimitReached, remove_own_address
from core.broadcasts import acknowledge, acknowledge_as_guardian
from core.channels import spec
from core.errors import UserError
from core.models import (
    AddressStatus,
    Broadcast,
    BroadcastAck,
    Channel,
    ContactAddress,
    Delivery,
    Guardian,
    NoticeKind,
    Passage,
    Photo,
)
from core.photos import open_photo, views_of
from core.registration import (
    Outcome,
    issue_link_code,
    own_unused_code,
    request_verification,
    verify_with_code,
)
from portal.deps import CurrentGuardian, PhotoViewer
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
        photos=photos,
        broadcasts=await _broadcasts_of(guardian, since),
        history_days=HISTORY_DAYS,
    )


async def _broadcasts_of(guardian: Guardian, since: datetime) -> list[tuple[Broadcast, bool]]:
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    ids = set(
        cast(
            list[int],
            await Delivery.filter(guardian_id=guardian.id, kind=NoticeKind.BROADCAST, queued_at__gte=since).values_list(
                "broadcast_id", flat=True
            ),
        )
    )
    acked = set(
        cast(
            list[int],
            await BroadcastAck.filter(guardian_id=guardian.id, broadcast_id__in=ids or {0}).values_list(
                "broadcast_id", flat=True
            ),
        )
    )
    broadcasts = await Broadcast.filter(id__in=ids or {0}).order_by("-confirmed_at")
    return [(b, b.id in acked) for b in broadcasts]


@router.post("/broadcasts/{broadcast_id}/ack")
async def acknowledge_on_portal(request: Request, broadcast_id: BroadcastId, guardian: CurrentGuardian) -> Response:
    if not await acknowledge_as_guardian(broadcast_id, guardian.id):
        raise HTTPException(404)
    return RedirectResponse("/home", status_code=303)


@router.get("/ack/{token}")
async def acknowledge_form(request: Request, token: AckToken) -> Response:
    delivery = await Delivery.get_or_none(ack_token=token).prefetch_related("broadcast")
    if delivery is None or delivery.broadcast is None:
        raise HTTPException(404)
    return page(request, "guardian/ack.html", token=token, broadcast=delivery.broadcast)


@router.post("/ack/{token}")
async def acknowledge_by_link(request: Request, token: AckToken) -> Response:
    # The link's token is the credential: no login, so a parent can confirm from any phone.
    broadcast = await acknowledge(token)
    if broadcast is None:
        raise HTTPException(404)
    return page(request, "guardian/ack.html", token=token, broadcast=broadcast, done=True)


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


async def _address_page(request: Request, guardian: Guardian, status_code: int = 200, **extra: Any) -> Response:
    addresses = (
        await ContactAddress.filter(guardian_id=guardian.id).exclude(status=AddressStatus.PENDING).order_by("slot")
    )
    pending = await ContactAddress.filter(guardian_id=guardian.id, status=AddressStatus.PENDING)
    limit = request.app.state.settings.accounts.max_addresses
    return page(
        request,
        "guardian/addresses.html",
        status_code=status_code,
        addresses=addresses,
        pending=pending,
        limit=limit,
        full=len(addresses) >= limit,
        **extra,
    )


@router.get("/addresses")
async def addresses(request: Request, guardian: CurrentGuardian) -> Response:
    return await _address_page(request, guardian)


@router.get("/register/{code}")
async def register_from_notice(request: Request, code: Word, guardian: CurrentGuardian) -> Response:
    """Where the printed notice's QR code leads; a stranger is sent to log in first."""
    own = await own_unused_code(guardian.id, code)
    if own is not None:
        return await _address_page(
            request,
            guardian,
            chat_code=own,
            notice=(
                "受け取り先を登録してください。メールはここで追加、LINE・Telegram はボットに下のコードを送ります。"
                " Register where notices go: add a mail address here, or send the code below to the bot."
            ),
        )
    return await _address_page(
        request,
        guardian,
        notice=(
            "このQRコードの登録コードは使用済みか、このアカウントのものではありません。受け取り先はここで追加できます。"
            " The code in this QR code is used, or belongs to another account: add an address here."
        ),
    )


@router.post("/addresses")
async def add_email(request: Request, guardian: CurrentGuardian, email: Annotated[FreeText, Form()] = "") -> Response:
    email = spec(Channel.EMAIL).normalise(email)
    sending = f"verification-mail:{guardian.id}"  # a guardian cannot make us mail strangers at will
    if await throttle.wait_before_next(sending):
        return await _address_page(
            request,
            guardian,
            429,
            error=("確認メールの送信が多すぎます。しばらく待ってください。 Too many confirmation mails: wait a while."),
        )
    if not spec(Channel.EMAIL).valid(email):
        return await _address_page(
            request, guardian, 400, error="メールアドレスを確認してください。 Check the mail address."
        )
    try:
        await request_verification(guardian.id, Channel.EMAIL, email, request.app.state.settings)
    except AddressLimitReached as full:
        return await _address_page(
            request,
            guardian,
            400,
            error=(
                f"登録できるのは{full.limit}件までです。先にどれかを削除してください。"
                f" At most {full.limit} addresses: remove one first."
            ),
        )
    except AddressAlreadyRegistered:
        return await _address_page(request, guardian, 400, error="既に登録されています。 Already registered.")
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
        notice=(
            "確認メールを送りました。メール内のリンクを開くと登録が完了します。"
            " We sent a confirmation mail: open its link to finish."
        ),
    )


@router.post("/addresses/chat-code")
async def chat_code(request: Request, guardian: CurrentGuardian) -> Response:
    code = await issue_link_code(guardian.id)
    await audit.record(actors.guardian(guardian), "registration_code.issue", target=f"guardian:{guardian.id}")
    return await _address_page(request, guardian, chat_code=code)


@router.post("/addresses/{address_id}/remove")
async def remove_address(request: Request, address_id: AddressId, guardian: CurrentGuardian) -> Response:
    if not await remove_own_address(guardian.id, address_id, via="portal"):
        raise HTTPException(404)
    return RedirectResponse("/addresses", status_code=303)


@router.post("/addresses/{address_id}/resume-broadcasts")
async def resume_broadcasts(request: Request, address_id: AddressId, guardian: CurrentGuardian) -> Response:
    if not await unsubscribe.resume_broadcasts(guardian.id, address_id, via="portal"):
        raise HTTPException(404)
    return RedirectResponse("/addresses", status_code=303)


@router.get("/verify/{code}")
async def verify_form(request: Request, code: Word, guardian: CurrentGuardian) -> Response:
    return page(request, "guardian/verify.html", code=code)


@router.post("/verify")
async def verify(request: Request, guardian: CurrentGuardian, code: Annotated[Word, Form()] = "") -> Response:
    limit = request.app.state.settings.accounts.max_addresses
    result = await verify_with_code(code, limit=limit, guardian_id=guardian.id)
    if result.outcome is Outcome.REGISTERED:
        return await _address_page(request, guardian, notice="登録しました。 The address is registered.")
    messages = {
        Outcome.AT_LIMIT: "登録数の上限です。 You are at the limit of addresses.",
        Outcome.THROTTLED: "試行が多すぎます。しばらく待ってください。 Too many attempts: wait a while.",
        Outcome.ALREADY_REGISTERED: "既に登録されています。 Already registered.",
    }
    return page(
        request,
        "guardian/verify.html",
        status_code=400,
        code=code,
        error=messages.get(result.outcome, "コードが違うか期限切れです。 The code is wrong or expired."),
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
) -> Response:
    try:
        await preferences.update_preferences(
            guardian, paused=bool(paused), quiet_start=quiet_start, quiet_end=quiet_end, language=language
        )
        await preferences.set_photos_in_chat(guardian, bool(photos_in_chat), via="portal")
    except UserError as error:
        return page(request, "guardian/preferences.html", status_code=400, guardian=guardian, error=str(error))
    return page(request, "guardian/preferences.html", guardian=guardian, notice="保存しました。 Saved.")
