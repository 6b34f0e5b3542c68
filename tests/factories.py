"""Small builders for test data, through the same code paths the system uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from uuid import uuid4

from core import broadcasts, sealing
from core.accounts import add_gate
from core.addresses import add_verified_address
from core.delivery.outbox import Priority, enqueue
from core.models import (
    BroadcastCategory,
    Channel,
    ContactAddress,
    Delivery,
    Direction,
    Gate,
    Guardian,
    Language,
    NoticeKind,
    Passage,
    PassageOutcome,
    Pupil,
    Site,
    SiteKind,
    StaffAccount,
    StaffAddress,
    StaffRole,
    Tag,
)

_numbers = count(1)


async def make_site(name: str = "みどり小学校", kind: SiteKind = SiteKind.SCHOOL) -> Site:
    return await Site.create(name=name, kind=kind, has_camera=kind is SiteKind.SCHOOL)


async def make_pupil(site: Site, name: str = "山田 花子", *, tag: str | None = None) -> Pupil:
    sealer = sealing.installed()
    n = next(_numbers)
    pupil = await Pupil.create(
        school=site,
        grade=3,
        class_name="2",
        name=name,
        name_index=sealer.blind_index("name", name),
        roster_key=f"test-pupil-{n}",
    )
    if tag:
        await Tag.create(number=tag, number_index=sealer.blind_index("tag", tag), pupil=pupil)
    return pupil


async def make_guardian(
    name: str = "山田 恵子",
    *,
    pupils: list[Pupil] = (),
    emails: list[str] = (),
    max_addresses: int = 2,
    language: Language = Language.JA,
) -> Guardian:
    n = next(_numbers)
    guardian = await Guardian.create(
        login_id=f"T{n:07d}",
        name=name,
        name_index=sealing.installed().blind_index("name", name),
        password_hash="unusable",
        language=language,
    )
    if pupils:
        await guardian.pupils.add(*pupils)
    for email in emails:
        await add_verified_address(guardian.id, Channel.EMAIL, email, limit=max_addresses)
    return guardian


async def make_gate(site: Site, name: str = "正門") -> tuple[Gate, str]:
    """A gate and its key, as ``mimamori admin add-gate`` makes them."""
    return await add_gate(site.name, name, actor="test")


async def make_site_staff(site: Site, email: str, login_id: str | None = None) -> StaffAccount:
    """A staff member of ``site`` with a verified mail address."""
    staff = await StaffAccount.create(
        login_id=login_id or f"staff-{next(_numbers)}", role=StaffRole.STAFF, password_hash="unusable"
    )
    await staff.sites.add(site)
    await StaffAddress.create(
        staff=staff,
        channel=Channel.EMAIL,
        value=email,
        value_index=sealing.installed().blind_index("address:email", email),
        verified_at=datetime.now(UTC),
    )
    return staff


PASSAGE_SEEN = datetime(2026, 11, 25, 22, 58, 10, tzinfo=UTC)  # 07:58 on the 26th in Tokyo


async def queue_passage_notice(
    address: ContactAddress,
    *,
    fact: str = "passage:1",
    seen_at: datetime = PASSAGE_SEEN,
    direction: str = "arrival",
    photo_token: str | None = None,
    expires: timedelta = timedelta(hours=1),
) -> Delivery | None:
    """花子's passage at みどり小学校 (a Tokyo site), a transactional notice queued for ``address`` as
    core.passages queues one (None: queued before)."""
    return await enqueue(
        kind=NoticeKind.PASSAGE,
        fact=fact,
        address=address,
        priority=Priority.TRANSACTIONAL,
        payload={
            "pupil": "花子",
            "site": "みどり小学校",
            "direction": direction,
            "seen_at": seen_at.isoformat(),
            "zone": "Asia/Tokyo",
            "photo_token": photo_token,
        },
        expires_at=datetime.now(UTC) + expires,
    )


async def confirmed_broadcast(
    scope: str = "all",
    *,
    title: str = "大雨のため休校",
    body: str = "本日は臨時休校とします。",
    category: BroadcastCategory = BroadcastCategory.DISASTER,
    ack_requested: bool = False,
    translated: dict[Language, tuple[str, str]] | None = None,
) -> int:
    """A broadcast drafted and confirmed by the board (its fan-out is the scheduler's); its id."""
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope(scope),
        category=category,
        title=title,
        body=body,
        ack_requested=ack_requested,
        translated=translated,
    )
    await broadcasts.confirm(draft.id, by=None)
    return draft.id


async def make_passage(pupil: Pupil, site: Site, *, seen_at: datetime | None = None) -> Passage:
    """A notified arrival of ``pupil`` at ``site``'s gate 正門 (now, unless ``seen_at``)."""
    gate = await Gate.get_or_none(site=site, name="正門") or (await make_gate(site))[0]
    return await Passage.create(
        event_id=uuid4(),
        gate=gate,
        site=site,
        pupil=pupil,
        tag_number="T1",
        tag_number_index="i1",
        seen_at=seen_at or datetime.now(UTC),
        direction=Direction.ARRIVAL,
        outcome=PassageOutcome.NOTIFIED,
    )
