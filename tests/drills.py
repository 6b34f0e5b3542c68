"""A drill run with known times, for the drill report's tests (core, portal, command line).

みどり小学校 (4 pupils, 7 families) and あおば小学校 (1 pupil, 1 family). Confirmed at 10:00 Tokyo
time on 2026-10-01; the report is read at 10:45. At みどり:

| family | child | delivery | reached | answers |
|---|---|---|---|---|
| g1 | p1 | sent | +1:00 | p1 at +4:00 |
| g2 | p2 | sent | +3:00 | p2 at +8:00 (changed by g5 at +12:00) |
| g3 | p3, p4 | failed | — | |
| g4 | p4 | no address | — | |
| g5 | p2 | sent | +10:00 | |
| g6 | p3 | failed, then sent again, then escalated | +2:30 (escalation +20:00) | p3 at +25:00 |
| g7 | p4 | still queued | — | |

Reached at みどり: 1:00, 2:30, 3:00, 10:00 → first 1:00, last 10:00, p50 2:30, p90 10:00.
Answered (of 4 pupils): 1 by 5 min, 2 by 10, 3 by 30, 60 not yet. Unreachable 2 (g3 failed, g4 no
address), 1 still pending (g7). At あおば: h1 reached at +0:30, q1 answered at +0:50.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import broadcasts
from core.broadcasts import continue_fanouts
from core.config import Settings
from core.models import (
    Broadcast,
    BroadcastCategory,
    Channel,
    Delivery,
    DeliveryStatus,
    Guardian,
    NoticeKind,
    Pupil,
    Site,
)
from tests.factories import make_guardian, make_pupil, make_site

CONFIRMED = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
READ_AT = CONFIRMED + timedelta(minutes=45)


@dataclass
class DrillRun:
    broadcast: Broadcast
    midori: Site
    aoba: Site
    pupils: dict[str, Pupil]
    guardians: dict[str, Guardian]


def after(minutes: float) -> datetime:
    return CONFIRMED + timedelta(minutes=minutes)


async def drill_run(settings: Settings) -> DrillRun:
    midori, aoba = await make_site("みどり小学校"), await make_site("あおば小学校")
    p = {name: await make_pupil(midori, f"児童 {name}") for name in ("p1", "p2", "p3", "p4")}
    p["q1"] = await make_pupil(aoba, "児童 q1")
    families = {
        "g1": ["p1"],
        "g2": ["p2"],
        "g3": ["p3", "p4"],
        "g4": ["p4"],
        "g5": ["p2"],
        "g6": ["p3"],
        "g7": ["p4"],
        "h1": ["q1"],
    }
    g = {
        name: await make_guardian(
            f"保護者 {name}", pupils=[p[c] for c in children], emails=[] if name == "g4" else [f"{name}@example.jp"]
        )
        for name, children in families.items()
    }
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校, あおば小学校"),
        category=BroadcastCategory.GENERAL,
        title="避難訓練",
        body="訓練です。お子さまの様子を答えてください。",
        question=broadcasts.BUILTIN_TEMPLATES[0].question,  # 安否確認
        drill=True,
        actor="test",
    )
    await broadcasts.confirm(draft.id, by=None, actor="test")
    await continue_fanouts(settings)
    await Broadcast.filter(id=draft.id).update(confirmed_at=CONFIRMED)
    outcomes = {
        "g1": (DeliveryStatus.SENT, 1),
        "g2": (DeliveryStatus.SENT, 3),
        "g3": (DeliveryStatus.FAILED, None),
        "g5": (DeliveryStatus.SENT, 10),
        "g6": (DeliveryStatus.FAILED, None),
        "g7": (DeliveryStatus.QUEUED, None),
        "h1": (DeliveryStatus.SENT, 0.5),
    }
    for name, (state, minutes) in outcomes.items():
        sent_at = after(minutes) if minutes is not None else None
        await Delivery.filter(broadcast_id=draft.id, guardian_id=g[name].id).update(status=state, sent_at=sent_at)
    for key, minutes in (("resend", 2.5), ("escalation", 20)):  # g6's second and third notice
        await Delivery.create(
            idempotency_key=f"drill-test-{key}",
            kind=NoticeKind.BROADCAST,
            channel=Channel.EMAIL,
            guardian_id=g["g6"].id,
            broadcast_id=draft.id,
            status=DeliveryStatus.SENT,
            next_attempt_at=after(minutes),
            sent_at=after(minutes),
        )
    for guardian, pupil, choice, minutes in (
        ("g1", "p1", 0, 4),
        ("g2", "p2", 0, 8),
        ("g5", "p2", 2, 12),
        ("g6", "p3", 1, 25),
        ("h1", "q1", 0, 50 / 60),
    ):
        await broadcasts.answer(
            draft.id, g[guardian].id, choice, via=Channel.EMAIL, pupil_ids=[p[pupil].id], now=after(minutes)
        )
    return DrillRun(await Broadcast.get(id=draft.id), midori, aoba, p, g)
