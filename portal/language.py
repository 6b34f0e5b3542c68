"""The language of the portal's pages: the account's choice, else the visitor's cookie, else Japanese.

Pages render in one language through core.i18n (``{{ _("Log in") }}``). Pages not converted yet
still write ``{{ t("日本語", "English") }}`` and ``class="ja"``/``class="en"`` passages: English
alone on an English page (the ``lang-en`` style hides the Japanese), else Japanese with the English
beside it. ``t`` goes when the last of them is converted.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup, escape

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


@pass_context
def bilingual(context: dict[str, Any], ja: str, en: str) -> Markup:
    if context.get("language") is Language.EN:
        return escape(en)
    return Markup('{} <span class="en" lang="en">{}</span>').format(ja, en)
