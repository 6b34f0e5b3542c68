"""The compiled message catalogs, loaded once per language and shared by every render.

``pybabel compile`` (scripts/bootstrap, scripts/i18n, the package build) turns each
core/locales/<locale>/LC_MESSAGES/messages.po into the .mo file loaded here. The .mo files are
built, never committed: a binary beside its source goes stale, and merges of it cannot be read.
A catalog whose .mo is missing or older than its .po (a checkout that changed the .po since the
last compile) is compiled in memory from the .po, with a warning, so a page never shows last
week's words.
"""

from __future__ import annotations

import logging
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from core.i18n.languages import LANGUAGES, SOURCE
from core.models.enums import Language

log = logging.getLogger(__name__)

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


@cache
def translations(language: Language) -> NullTranslations:
    """``language``'s catalog, falling back as its ``LanguageSpec`` says, then to the msgid (English)."""
    spec = LANGUAGES[language]
    found = NullTranslations() if language is SOURCE else _load(spec.locale)
    if spec.fallback is not None:
        found.add_fallback(translations(spec.fallback))
    return found


def po_path(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(locale: str) -> NullTranslations:
    po, mo = po_path(locale), po_path(locale).with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    log.warning("%s is missing or older than its .po: compiled in memory (run scripts/i18n compile)", mo)
    with po.open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled_in_memory = BytesIO()
    write_mo(compiled_in_memory, catalog)
    compiled_in_memory.seek(0)
    return Translations(compiled_in_memory, domain=DOMAIN)
