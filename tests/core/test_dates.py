"""Dates and times as each language writes them, always in the site's zone (Asia/Tokyo by default)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import zones
from core.i18n.dates import format_date, format_datetime, format_time
from core.models import Language

MOMENT = datetime(2026, 11, 25, 22, 58, tzinfo=UTC)  # still the 25th in UTC: 7:58 on the 26th in Tokyo
WRITTEN = {  # month and day; the time; both as the language joins them; a long date
    Language.JA: ("11月26日", "7:58", "11月26日 7:58", "2026年11月26日"),
    Language.JA_EASY: ("11月26日", "7:58", "11月26日 7:58", "2026年11月26日"),
    Language.EN: ("Nov 26", "7:58\u202fAM", "Nov 26, 7:58\u202fAM", "November 26, 2026"),
    Language.ZH_HANS: ("11月26日", "07:58", "11月26日 07:58", "2026年11月26日"),
    Language.PT_BR: ("26 de nov.", "07:58", "26 de nov. 07:58", "26 de novembro de 2026"),
    Language.VI: ("26 thg 11", "07:58", "07:58 26 thg 11", "26 tháng 11, 2026"),
    Language.FIL: ("Nob 26", "7:58\u202fAM", "Nob 26, 7:58\u202fAM", "Nobyembre 26, 2026"),
}


@pytest.mark.parametrize("language", list(Language), ids=str)
def test_a_moment_is_written_as_the_language_writes_it_in_tokyo_time(language: Language) -> None:
    tokyo = zones.zone("Asia/Tokyo")
    written = (
        format_date(MOMENT, language, tokyo, "MMMd"),
        format_time(MOMENT, language, tokyo),
        format_datetime(MOMENT, language, tokyo, "MMMd"),
        format_date(MOMENT, language, tokyo, "long"),
    )
    assert written == WRITTEN[language]


def test_the_zone_decides_the_day_and_the_hour_not_the_language() -> None:
    honolulu = zones.zone("Pacific/Honolulu")  # UTC-10: 12:58 on the 25th
    assert format_datetime(MOMENT, Language.JA, honolulu, "MMMd") == "11月25日 12:58"
    assert format_datetime(MOMENT, Language.EN, honolulu, "MMMd") == "Nov 25, 12:58\u202fPM"
