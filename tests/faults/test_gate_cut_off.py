"""A gate cut off from the centre for an hour of passages, then back: its spool holds a pass
every five minutes from 75 to 15 minutes ago. Every passage is recorded once, in order; the
notices of those older than ``delivery.passage_expiry_minutes`` (60) are expired, not sent an
hour late; the others reach their guardian once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from core.models import Delivery, DeliveryStatus, Passage
from gates.config import GateConfig
from tests.cli.test_admin_commands import ENGLISH
from tests.conftest import Cli
from tests.delivery.conftest import Deliver, deliver, mail_settings  # noqa: F401 (fixtures)
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.gates.conftest import (  # noqa: F401 (fixtures)
    Centre,
    RunningGate,
    centre,
    eventually,
    gate_config,
    reader_port,
    running_gates,
)
from tests.mailsink import MailSink

MINUTES_AGO = [75, 70, 65, 55, 50, 45, 40, 35, 30, 25, 20, 15]
EXPIRY_MINUTES = 60


@pytest.mark.slow
async def test_an_hour_of_passages_spooled_while_cut_off_arrives_once_in_order_and_old_notices_expire(
    centre: Centre,
    gate_config: Callable[..., GateConfig],
    running_gates: Callable[[GateConfig], RunningGate],
    deliver: Deliver,
    mail_sink: MailSink,
    cli: Cli,
) -> None:
    site = await make_site()
    tags = [f"{0x1A00000000 + n:010X}" for n in range(len(MINUTES_AGO))]
    for n, tag in enumerate(tags):
        await make_guardian(
            f"山田 親{n}", pupils=[await make_pupil(site, f"山田 子{n}", tag=tag)], emails=[f"parent{n}@example.jp"]
        )
    _, key = await make_gate(site)
    worker = await running_gates(gate_config(key, camera=False)).start()  # the centre is away
    now = datetime.now(UTC)
    for tag, minutes in zip(tags, MINUTES_AGO, strict=True):
        await asyncio.to_thread(worker.spool.add, uuid.uuid4(), tag, now - timedelta(minutes=minutes))
        worker.uplink.wake()  # as the reader does for each pass
    await asyncio.sleep(1.0)  # a few failed uploads
    assert worker.spool.depth() == len(tags) and not await Passage.exists()

    await centre.start()
    back = time.monotonic()
    await eventually(lambda: worker.spool.depth() == 0, timeout=60)
    caught_up = time.monotonic() - back
    await deliver()

    passages = await Passage.all().order_by("id")
    assert [p.tag_number for p in passages] == tags  # once each, in the order they passed
    assert [p.seen_at for p in passages] == sorted(p.seen_at for p in passages)
    overdue = {f"parent{n}@example.jp" for n, minutes in enumerate(MINUTES_AGO) if minutes > EXPIRY_MINUTES}
    rows = await Delivery.filter(passage_id__isnull=False).prefetch_related("address")
    expired = {row.address.value for row in rows if row.status is DeliveryStatus.EXPIRED}
    sent = {row.address.value for row in rows if row.status is DeliveryStatus.SENT}
    per_recipient = mail_sink.per_recipient()
    print(
        f"\ngate cut off for {MINUTES_AGO[0] - MINUTES_AGO[-1]} min of passages: {len(passages)} of "
        f"{len(tags)} recorded in {caught_up:.1f} s once the centre was back, lost {len(tags) - len(passages)}; "
        f"notices sent {len(sent)}, expired {len(expired)} (older than {EXPIRY_MINUTES} min), "
        f"sent late {len(overdue & set(per_recipient))}, duplicated {sum(per_recipient.values()) - len(per_recipient)}"
    )
    assert len(rows) == len(tags)
    assert expired == overdue and not overdue & set(per_recipient)
    assert per_recipient == {address: 1 for address in sent} and len(sent) == len(tags) - len(overdue)
    shown = cli("status", env=ENGLISH)  # what an operator sees
    assert shown.returncode == 0, shown.stderr
    [email, *_groups] = [line.split() for line in shown.lines if line.startswith("mail ")]  # the channel's row first
    assert email[1:] == ["0", "0", str(len(sent)), "0", str(len(overdue))]  # queued sending sent failed expired
    assert sum(" Passage notice mail expired: expired before" in line for line in shown.lines) == len(overdue)
