"""Dates and times as each language writes them (Babel's CLDR data), in the zone the caller gives.

Which zone is core.zones' decision (a site's own, else the configured one); this only writes the
moment in it. A ``form`` is one of Babel's "short", "medium", "long", "full", or a CLDR skeleton
such as "MMMd" (month and day, in the language's order: 11月26日, Nov 26, 26 de nov.).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, dates

from core.i18n.languages import LANGUAGES
from core.models.enums import Language

_NAMED = frozenset({"short", "medium", "long", "full"})


@cache
def locale_of(language: Language) -> Locale:
    return Locale.parse(LANGUAGES[language].locale)


def format_date(moment: datetime, language: Language, zone: ZoneInfo, form: str = "medium") -> str:
    local = moment.astimezone(zone)
    if form in _NAMED:
        return dates.format_date(local.date(), form, locale=locale_of(language))
    return dates.format_skeleton(form, local, tzinfo=zone, fuzzy=True, locale=locale_of(language))


def format_time(moment: datetime, language: Language, zone: ZoneInfo, form: str = "short") -> str:
    return dates.format_time(moment, form, tzinfo=zone, locale=locale_of(language))


def format_datetime(moment: datetime, language: Language, zone: ZoneInfo, form: str = "medium") -> str:
    """The date in ``form`` and the time (short), joined as the language joins them."""
    if form in _NAMED:
        return dates.format_datetime(moment, form, tzinfo=zone, locale=locale_of(language))
    joined: str = locale_of(language).datetime_formats["short"]
    return joined.replace("{1}", format_date(moment, language, zone, form)).replace(
        "{0}", format_time(moment, language, zone)
    )
