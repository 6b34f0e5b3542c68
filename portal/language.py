"""The language of the portal's pages: Japanese with English beside it, or English alone.

A guardian's or staff member's own choice decides; before login, a cookie does. Templates write
``{{ t("日本語", "English") }}`` for short texts and mark longer Japanese passages ``class="ja"``
next to their ``class="en"`` English, which the ``lang-en`` page style hides. Messages made in
Python ("日本語。 English.", as ``UserError`` carries them) go through ``{{ text | message }}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup, escape

LANGUAGE_COOKIE = "mimamori_lang"
LANGUAGES = ("ja", "en")


def language_of(request: Request, account: object | None) -> str:
    chosen = getattr(account, "language", None)
    if chosen is not None:
        return str(chosen.value)
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    return cookie if cookie in LANGUAGES else "ja"


@pass_context
def bilingual(context: dict[str, Any], ja: str, en: str) -> Markup:
    if context.get("lang") == "en":
        return escape(en)
    return Markup('{} <span class="en" lang="en">{}</span>').format(ja, en)


@pass_context
def message(context: dict[str, Any], text: str) -> Markup:
    """A message written "日本語。 English." shown as ``t`` shows its two parts; anything else as
    it is."""
    ja, mark, en = text.rpartition("。 ")
    if not mark or not en[:1].isascii():
        return escape(text)
    return bilingual(context, ja + "。", en)
