"""Whether a page, a mail or a chat message is in one language only: the checker converted texts
are tested with (``assert_one_language(page.text, Language.EN, names=[...])``).

What it looks at is what a reader sees: a page's text and title, and its alt, title, aria-label
and placeholder attributes, except inside an element whose ``lang`` names another language (a
language's own name on the language choice, say). Links and mail addresses are left out, and so
are ``names``: the proper names the text may hold in any language (a school, a child, a login ID).

- In Japanese (and easy Japanese): no word of three or more Latin letters but ``LATIN_IN_JAPANESE``:
  that is what a doubled English label ("お子さま Children") leaves.
- In any other language: no kana; outside Chinese, no kanji either.
- In every language but English: no English text the catalogs translate for that language (the
  msgid shown because a translation is missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from core.i18n.catalogs import po_path, translations
from core.i18n.languages import LANGUAGES
from core.models import Language

LATIN_IN_JAPANESE = frozenset({"LINE", "Telegram", "Mimamori"})
_JAPANESE = (Language.JA, Language.JA_EASY)
_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]+")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3,}(?![A-Za-z0-9])")
_LINK_OR_MAIL = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+")
_SHOWN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")


def assert_one_language(text: str, language: Language, *, names: Iterable[str] = ()) -> None:
    problems = one_language_problems(text, language, names=names)
    assert not problems, f"not all {language}: {problems}\n---\n{seen_text(text)}"


def one_language_problems(text: str, language: Language, *, names: Iterable[str] = ()) -> list[str]:
    shown = _LINK_OR_MAIL.sub(" ", seen_text(text, language))
    for name in sorted(names, key=len, reverse=True):
        shown = shown.replace(name, " ")
    problems: list[str] = []
    if language in _JAPANESE:
        problems += [w for w in _LATIN_WORD.findall(shown) if w not in LATIN_IN_JAPANESE]
    else:
        problems += _KANA.findall(shown)
        if language is not Language.ZH_HANS:
            problems += _KANJI.findall(shown)
    if language is not Language.EN:
        problems += [english for english in _untranslated(language) if english in shown]
    return problems


def seen_text(text: str, language: Language | None = None) -> str:
    """What a reader sees of ``text``: itself if it is not HTML, else a page's visible words."""
    if not re.search(r"<(html|p|div|body|a|span|h1|table)\b", text):
        return text
    reader = _Reader(str(language) if language else None)
    reader.feed(text)
    return " ".join(reader.parts)


@cache
def _untranslated(language: Language) -> tuple[str, ...]:
    """The English texts (of two words or more, without placeholders) that ``language`` translates."""
    with po_path(LANGUAGES[Language.JA].locale).open("rb") as source:
        msgids = [m.id for m in read_po(source) if isinstance(m.id, str) and " " in m.id and "%" not in m.id]
    catalog = translations(language)
    return tuple(msgid for msgid in msgids if catalog.gettext(msgid) != msgid)


class _Reader(HTMLParser):
    def __init__(self, language: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, whether it is in another language)
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        foreign = bool(self._open and self._open[-1][1])
        if tag == "html":
            self.language = self.language or values.get("lang")
        elif values.get("lang") and self.language:
            foreign = values["lang"] != self.language
        if tag not in ("br", "img", "input", "meta", "link", "hr"):
            self._open.append((tag, foreign))
            self._hidden += tag in ("script", "style")
        if not foreign:
            self.parts += [v for k, v in attrs if k in _SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, _ = self._open.pop()
            self._hidden -= opened in ("script", "style")
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        foreign = bool(self._open and self._open[-1][1])
        if not foreign and not self._hidden and data.strip():
            self.parts.append(data.strip())
