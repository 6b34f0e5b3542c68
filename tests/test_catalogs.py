"""Every text the code shows is translated: guardian-facing texts in every language, staff texts
(core.i18n.languages.STAFF_SOURCES) in Japanese and English; no translation loses a placeholder.

The texts come from the code itself (``pybabel extract`` with pyproject.toml's settings), not from
the catalogs: a text added without ``scripts/i18n update`` is missing here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from core.i18n.catalogs import po_path
from core.i18n.languages import LANGUAGES, SOURCE, STAFF_LANGUAGES, STAFF_SOURCES
from core.models import Language

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in LANGUAGES if language is not SOURCE]


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What the code holds now, each text with the files it is used in."""
    pot = tmp_path_factory.mktemp("catalogs") / "messages.pot"
    here = Path.cwd()
    try:
        import os

        os.chdir(ROOT)  # pyproject.toml's paths are the repository's
        CommandLineInterface().run(["pybabel", "--quiet", "extract", "--output-file", str(pot)])
    finally:
        os.chdir(here)
    with pot.open("rb") as extracted:
        return read_po(extracted)


def _catalog(language: Language) -> Catalog:
    locale = LANGUAGES[language].locale
    with po_path(locale).open("rb") as source:
        return read_po(source, locale=locale)


def _staff_only(locations: list[tuple[str, int | None]]) -> bool:
    return all(path.startswith(STAFF_SOURCES) for path, _ in locations)


def test_the_code_has_texts_to_translate_and_the_rule_knows_staff_texts(texts: Catalog) -> None:
    assert texts.get("Log in") is not None and not _staff_only(texts["Log in"].locations)
    assert _staff_only([("portal/templates/staff/compose.html", None), ("mimamori/commands/admin.py", None)])


@pytest.mark.parametrize("language", TRANSLATED, ids=str)
def test_every_text_a_reader_of_the_language_sees_is_translated(texts: Catalog, language: Language) -> None:
    catalog = _catalog(language)
    missing = []
    for text in texts:
        if not text.id or (language not in STAFF_LANGUAGES and _staff_only(text.locations)):
            continue
        found = catalog.get(text.id, context=text.context)
        strings = found.string if found is not None and isinstance(found.string, tuple) else (found and found.string,)
        if found is None or found.fuzzy or not all(strings):
            missing.append(text.id if isinstance(text.id, str) else text.id[0])
    assert not missing, (
        f"{LANGUAGES[language].locale} lacks {len(missing)} text(s): run scripts/i18n update, translate them in "
        f"{po_path(LANGUAGES[language].locale).relative_to(ROOT)} (README 'Languages'):\n  " + "\n  ".join(missing)
    )


@pytest.mark.parametrize("language", TRANSLATED, ids=str)
def test_translations_keep_their_placeholders(language: Language) -> None:
    """The same %(name)s placeholders in a translation as in its text, each of the same type (Babel's
    own check). Of several plural forms one may leave out the count ("um minuto"); a single one may not."""
    catalog = _catalog(language)
    problems = [f"{message.id!r}: {'; '.join(map(str, errors))}" for message, errors in catalog.check()]
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*map(_placeholders, ids))
        for string in filter(None, strings):
            kept = _placeholders(string)
            if kept != wanted and not (len(strings) > 1 and kept == wanted - {"num"}):
                problems.append(f"{ids[0]!r}: {string!r} has {sorted(kept)}, not {sorted(wanted)}")
    assert not problems, "\n".join(problems)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", text))
