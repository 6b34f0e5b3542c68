"""Translations and dates in Jinja2 templates, in the language of each render.

``install(env)`` adds Jinja2's i18n extension (newstyle gettext: ``{{ _("Hello %(name)s", name=n) }}``,
``ngettext``, ``pgettext``, ``{% trans %}``) with callables that read the render's ``language``
variable: one environment serves many languages at once (the portal's requests, a delivery
batch's guardians), so the language is never switched globally. A template rendered without a
``language`` fails loudly rather than guessing.

Filters: ``translate`` shows a ``core.i18n.Message`` (an error raised in core, a label from a
table); ``date``, ``time`` and ``datetime`` write a moment as the language does, in the zone of
``site=`` if given, else of the render's ``zone`` variable (a zone name), else the default zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from core import zones
from core.i18n import dates
from core.i18n.catalogs import translations
from core.i18n.messages import Message
from core.models.enums import Language


def install(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # as pyproject's extraction reads {% trans %} blocks
    # Added by the extension just above, so not in Environment's type.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext, newstyle=True
    )
    env.filters.update(
        translate=translate,
        date=_moment_filter(dates.format_date, "medium"),
        time=_moment_filter(dates.format_time, "short"),
        datetime=_moment_filter(dates.format_datetime, "medium"),
    )


def language_of(context: Context) -> Language:
    value = context.get("language")
    if isinstance(value, Language):
        return value
    if value is None:
        raise RuntimeError(f"{context.name} was rendered without a language")
    return Language(value)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(language_of(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(language_of(context)).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str) -> str:
    return str(translations(language_of(context)).pgettext(msgctxt, message))  # (typed "str | object" by Babel)


@pass_context
def _npgettext(context: Context, msgctxt: str, singular: str, plural: str, n: int) -> str:
    return translations(language_of(context)).npgettext(msgctxt, singular, plural, n)


@pass_context
def translate(context: Context, value: Message | str | None) -> str:
    """A ``Message`` in the render's language; a plain ``str`` (a peer's words, a name) as it is."""
    if value is None:
        return ""
    if isinstance(value, Message):
        return value.translate(language_of(context))
    return value


def _zone(context: Context, site: zones.Zoned | None) -> ZoneInfo:
    if site is not None:
        return zones.of(site)
    name = context.get("zone")
    return zones.zone(name) if name else zones.DEFAULT


def _moment_filter(write: Callable[[datetime, Language, ZoneInfo, str], str], default_form: str) -> Any:
    """A filter writing a moment (or its ISO text, as notice payloads hold it) with ``write``."""

    @pass_context
    def written(
        context: Context, value: datetime | str | None, form: str = default_form, *, site: zones.Zoned | None = None
    ) -> str:
        if not value:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return write(moment, language_of(context), _zone(context, site), form)

    return written
