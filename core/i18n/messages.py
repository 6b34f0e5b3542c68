"""Texts made in Python for a person: a msgid and its parameters, translated where they are shown.

Code that does not know who will read a text (core raising ``UserError``, a table of labels)
makes a ``Message`` with ``_``, ``_n`` (a count) or ``_p`` (a word that needs a context), and the
place that shows it calls ``message.translate(language)``, or a template's ``translate`` filter.
A ``Message`` is not a ``str`` on purpose: a text that cannot be printed before it is translated
cannot end up in the wrong language (or in a log line) by accident.

Placeholders are ``%(name)s``, as in the templates' ``_()``; a literal percent sign is ``%%``.
A parameter may itself be a ``Message`` (a channel's name inside a sentence): it is translated too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from babel.lists import format_list

from core.i18n.catalogs import translations
from core.i18n.dates import locale_of
from core.models.enums import Language


@dataclass(frozen=True)
class Message:
    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None  # with ``count``: ngettext's second form
    count: int | None = None
    context: str | None = None  # pgettext's context

    def translate(self, language: Language) -> str:
        catalog = translations(language)
        if self.plural is not None and self.count is not None:
            if self.context is not None:
                text = catalog.npgettext(self.context, self.msgid, self.plural, self.count)
            else:
                text = catalog.ngettext(self.msgid, self.plural, self.count)
        elif self.context is not None:
            text = str(catalog.pgettext(self.context, self.msgid))  # (typed "str | object" by Babel)
        else:
            text = catalog.gettext(self.msgid)
        values = {k: v.translate(language) if isinstance(v, Message) else v for k, v in self.params.items()}
        return text % values


def _(msgid: str, /, **params: object) -> Message:
    return Message(msgid, params)


def _n(singular: str, plural: str, count: int, /, **params: object) -> Message:
    """A text with a count; ``%(num)d`` is the count unless ``params`` says otherwise."""
    return Message(singular, {"num": count, **params}, plural=plural, count=count)


def _p(context: str, msgid: str, /, **params: object) -> Message:
    """A text whose msgid alone is ambiguous ("Kind" of a passage, not of a site)."""
    return Message(msgid, params, context=context)


@dataclass(frozen=True)
class Listing(Message):
    """Several texts shown as one list, joined as the reader's language joins one (Babel's CLDR
    list patterns: 「A、B」, "A and B"); each item a ``Message`` or a name shown as it is."""

    items: tuple[Message | str, ...] = ()

    def translate(self, language: Language) -> str:
        shown = [item.translate(language) if isinstance(item, Message) else item for item in self.items]
        return format_list(shown, locale=locale_of(language)) if shown else ""


def listing(items: Iterable[Message | str]) -> Message:
    return Listing("", items=tuple(items))


@dataclass(frozen=True)
class LanguageName(Message):
    """A language's name in the reader's language, as CLDR (Babel) gives it: 英語, English, tiếng Anh."""

    named: Language = Language.JA

    def translate(self, language: Language) -> str:
        if self.named is Language.JA_EASY:  # CLDR has no name for it
            return _("Easy Japanese").translate(language)
        return str(locale_of(self.named).get_display_name(locale_of(language)))


def language_name(language: Language) -> Message:
    return LanguageName("", named=language)
