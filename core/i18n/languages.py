"""The languages Mimamori speaks, who may choose which, and where each one's texts come from.

Messages are written in English in the code (the gettext msgids) and translated by the catalogs in
core/locales/<locale>/LC_MESSAGES/messages.po. Guardian-facing texts are kept complete in every
language; staff texts (those only staff see: the files under ``STAFF_SOURCES``) in
``STAFF_LANGUAGES`` only, the languages a staff account may choose. tests/test_catalogs.py holds
the catalogs to both rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel.core import negotiate_locale

from core.models.enums import Language

DEFAULT = Language.JA
SOURCE = Language.EN  # the msgids' language: it needs no catalog
ORIGINAL = Language.JA  # the language staff write broadcasts (and their questions) in


@dataclass(frozen=True)
class LanguageSpec:
    language: Language
    name: str  # the language's name written in itself, as the choice shows it
    locale: str  # Babel's identifier: dates, plural rules, and the catalog's folder in core/locales
    fallback: Language | None = None  # where a message its catalog lacks is looked up next (else the msgid)


LANGUAGES: dict[Language, LanguageSpec] = {
    spec.language: spec
    for spec in (
        LanguageSpec(Language.JA, "日本語", "ja"),
        # gettext's "@modifier" names a variant of a language (as sr@latin does): Babel reads
        # ja@easy as Japanese for dates and plural rules, and a word not yet made easy is shown
        # as ordinary Japanese, which the reader is learning, rather than as English.
        LanguageSpec(Language.JA_EASY, "やさしい日本語", "ja@easy", fallback=Language.JA),
        LanguageSpec(Language.EN, "English", "en"),
        LanguageSpec(Language.ZH_HANS, "简体中文", "zh_Hans"),
        LanguageSpec(Language.PT_BR, "Português (Brasil)", "pt_BR"),
        LanguageSpec(Language.VI, "Tiếng Việt", "vi"),
        LanguageSpec(Language.FIL, "Filipino", "fil"),
    )
}
GUARDIAN_LANGUAGES = tuple(LANGUAGES)
STAFF_LANGUAGES = (Language.JA, Language.EN)

# The source files whose texts only staff, support and administrators read: a path (from the
# repository's root) starting with one of these. A text also used anywhere else is guardian-facing.
STAFF_SOURCES = (
    "bot/templates/staff_replies.j2",
    "core/accounts.py",
    "core/config.py",
    "core/attendance.py",
    "core/broadcasts/",
    "core/calendar_entries.py",
    "core/calendar_file.py",
    "core/delivery/summary.py",
    "core/readiness.py",
    "core/registration_notice.py",
    "core/hall_enrolments.py",
    "core/roster/",
    "core/staff_labels.py",
    "core/staff_notices.py",
    "core/support.py",
    "core/keyring.py",
    "core/today.py",
    "core/totp.py",
    "core/templates/notices/not_seen/staff.j2",
    "core/templates/notices/staff/",
    "mail/dkim_signing.py",
    "mail/staff_alerts.py",
    "mail/templates/replies/staff_",
    "gates/",
    "mimamori/",
    "portal/routes/admin.py",
    "portal/routes/admin_calendar.py",
    "portal/routes/board.py",
    "portal/routes/staff.py",
    "portal/routes/support.py",
    "portal/templates/admin/",
    "portal/templates/auth/staff_login.html",
    "portal/templates/auth/totp.html",
    "portal/templates/staff/",
    "portal/templates/support/",
)


def language_or_default(value: str | None) -> Language:
    """The language a stored or sent value names (a cookie, a form field); the default for anything else."""
    try:
        return Language(value) if value else DEFAULT
    except ValueError:
        return DEFAULT


def choices_for(staff: bool) -> tuple[Language, ...]:
    """The languages a person may choose: staff the two their pages are kept in, anyone else all."""
    return STAFF_LANGUAGES if staff else GUARDIAN_LANGUAGES


def from_locale_environment(environ: Mapping[str, str], choices: tuple[Language, ...]) -> Language:
    """The language a terminal's locale names (gettext's order: LANGUAGE, LC_ALL, LC_MESSAGES,
    LANG), if it is one of ``choices``; else the default. "C" and "POSIX" name none: Japanese then,
    as everywhere a person has not chosen."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            wanted = [part.split(".")[0].split("@")[0] for part in value.split(":")]
            found = negotiate_locale(wanted, [LANGUAGES[c].locale for c in choices], sep="_")
            return next((c for c in choices if LANGUAGES[c].locale == found), DEFAULT)
    return DEFAULT
