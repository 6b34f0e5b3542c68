"""The database work a passage costs, which does not depend on the machine's load (the timed
figures are in bench/ingest.py): a fixed number of statements, however many addresses are told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from core.models import Delivery, Gate
from core.passages import record_passage
from core.wire import PassageEvent
from core.zones import DEFAULT as TOKYO
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.sql_counter import counting_statements

MORNING = datetime.combine(datetime.now(TOKYO).date() + timedelta(days=2), time(7, 58), TOKYO).astimezone(UTC)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 500 + b"\xff\xd9"


async def test_a_passage_telling_four_addresses_costs_at_most_eight_statements(database_url, settings) -> None:
    site = await make_site()
    _, _ = await make_gate(site)
    pupil = await make_pupil(site, "山田 花子", tag="0A1B2C3D4E")
    await make_guardian("山田 恵子", pupils=[pupil], emails=["keiko@example.jp", "keiko2@example.jp"])
    await make_guardian("山田 太郎", pupils=[pupil], emails=["taro@example.jp", "taro2@example.jp"])
    gate = await Gate.get(site_id=site.id).select_related("site")
    event = PassageEvent(event_id=uuid.uuid4(), tag="0A1B2C3D4E", seen_at=MORNING)

    with counting_statements() as counted:
        recorded = await record_passage(gate, event, JPEG, settings)

    assert await Delivery.filter(passage_id=recorded.passage.id).count() == 4
    # the tag with whom to tell; BEGIN; earlier passages (and on PostgreSQL the pupil's row lock);
    # the passage, its photo and its four notices; COMMIT
    assert len(counted.queries) <= 8, "\n".join(s[:70] for s in counted.queries)
    assert len(counted.of("INSERT")) == 3 and not counted.of("SAVEPOINT")
