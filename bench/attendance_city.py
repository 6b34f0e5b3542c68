"""A city's school morning for the attendance benchmarks: a roster, a gate per school, and the
passages and reports of one school day (most pupils arrived, some reported absent, the rest unseen)."""

from __future__ import annotations

import random
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import sealing, zones  # noqa: E402
from core.accounts import add_gate  # noqa: E402
from core.config import AccountSettings, Settings, load_settings  # noqa: E402
from core.db import insert_rows, open_database, refresh_statistics, upgrade_schema  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    AbsenceReport,
    ContactAddress,
    Direction,
    Guardian,
    Passage,
    PassageOutcome,
    Pupil,
    ReportKind,
    ReportReason,
    ReportVia,
    Site,
    Tag,
    TagStatus,
)
from core.passwords import Passwords  # noqa: E402
from core.roster import import_roster  # noqa: E402
from mimamori.demo_city import demo_roster  # noqa: E402

DAY = date(2026, 12, 8)  # a Tuesday, no holiday


@dataclass
class Morning:
    settings: Settings
    url: str
    arrived: int
    reported: int
    unseen: int


def local(hour: int, minute: int) -> datetime:
    return datetime.combine(DAY, time(hour, minute), zones.DEFAULT).astimezone(UTC)


async def city_morning(schools: int, pupils: int, database_url: str | None, *, absent_share: float) -> Morning:
    """Seed a fresh database; ``absent_share`` of the tagged pupils are half reported absent, half unseen."""
    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    keyring = work / "keyring.json"
    sealer = sealing.Sealer(Keyring.generate(keyring))
    sealing.install(sealer)
    url = database_url or f"sqlite://{work / 'bench.db'}"
    await upgrade_schema(url)
    await open_database(url)
    names = [f"第{i}小学校" for i in range(1, schools + 1)]
    await import_roster(
        demo_roster(names, pupils), passwords=Passwords(AccountSettings(), sealer), max_addresses=2, actor="bench"
    )
    gates = {site.id: (await add_gate(site.name, "正門", actor="bench"))[0].id for site in await Site.all()}
    tagged = await Tag.filter(status=TagStatus.ACTIVE, pupil_id__isnull=False).values_list("pupil_id", "number")
    schools_of = dict(await Pupil.all().values_list("id", "school_id"))
    rng = random.Random(7)
    passages, reports = [], []
    for pupil_id, number in tagged:
        roll = rng.random()
        if roll >= absent_share:
            passages.append(_passage(pupil_id, schools_of[pupil_id], gates[schools_of[pupil_id]], number))
        elif roll < absent_share / 2:
            reports.append(_report(pupil_id))
    await insert_rows(Passage, passages)
    await insert_rows(AbsenceReport, reports)
    # as autovacuum keeps them in service (and a roster import does at once): planned on real sizes
    await refresh_statistics(Passage, AbsenceReport, Pupil, Tag, Guardian, ContactAddress)
    settings = load_settings(None, data_dir=str(work), database_url=url, keyring=str(keyring))
    unseen = len(tagged) - len(passages) - len(reports)
    return Morning(settings, url, len(passages), len(reports), unseen)


def _passage(pupil_id: int, site_id: int, gate_id: int, number: str) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "gate_id": gate_id,
        "site_id": site_id,
        "pupil_id": pupil_id,
        "tag_number": number,
        "tag_number_index": sealing.installed().blind_index("tag", number),
        "seen_at": local(7, 50),
        "direction": Direction.ARRIVAL,
        "outcome": PassageOutcome.NOTIFIED,
    }


def _report(pupil_id: int) -> dict[str, Any]:
    return {
        "pupil_id": pupil_id,
        "kind": ReportKind.ABSENT,
        "first_day": DAY,
        "last_day": DAY,
        "reason": ReportReason.ILLNESS.value,
        "via": ReportVia.PORTAL,
    }
