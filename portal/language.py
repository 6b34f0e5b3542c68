"""The language of the portal's pages: the account's choice, else the visitor's cookie, else Japanese.

Pages render in one language through core.i18n (``{{ _("Log in") }}``).
"""

from __future__ import annotations

from fastapi import Request

from core.i18n.languages import choices_for, language_or_default
from core.models import Language, StaffAccount

LANGUAGE_COOKIE = "mimamori_lang"


def language_of(request: Request, account: object | None) -> Language:
    chosen = getattr(account, "language", None)
    if isinstance(chosen, Language):
        return chosen
    return language_or_default(request.cookies.get(LANGUAGE_COOKIE))


def reader_language(request: Request, owner: Language) -> Language:
    """The language of a page opened from a link sent to one person (an acknowledgement, an
    unsubscribe link), without logging in: the visitor's own choice if they made one here, else
    the language of the person the link was sent to."""
    if getattr(request.state, "account", None) is not None or LANGUAGE_COOKIE in request.cookies:
        return language_of(request, getattr(request.state, "account", None))
    return owner


def choices(account: object | None) -> tuple[Language, ...]:
    """The languages this visitor may choose: staff accounts two, anyone else all."""
    return choices_for(staff=isinstance(account, StaffAccount))
