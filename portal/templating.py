"""The portal's Jinja2 templates, and rendering a page with what every page needs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader, pass_context
from jinja2.runtime import Context

from core import channels, templating, zones
from core.i18n.languages import LANGUAGES
from portal.language import choices, language_of

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@pass_context
def when(
    context: Context, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M", *, site: zones.Zoned | None = None
) -> str:
    """A moment as people read it: in ``site``'s zone when it happened at a site, else in the configured one."""
    if not value:
        return ""
    zone = zones.of(site) if site is not None else zones.zone(context["request"].app.state.settings.timezone)
    return value.astimezone(zone).strftime(fmt)


templating.install(templates.env)
templates.env.filters["when"] = when  # (pages not converted yet: the converted ones use date, time, datetime)
templates.env.globals["channel_spec"] = channels.spec
templates.env.globals["LANGUAGES"] = LANGUAGES


def templates_with(directory: Path) -> Jinja2Templates:
    """Templates of a router handed in from outside the portal: ``directory`` first, then the
    portal's own (so its pages extend ``base.html``), with the same filters and globals."""
    more = Jinja2Templates(directory=directory)
    portal_loader = templates.env.loader
    assert portal_loader is not None  # Jinja2Templates(directory=...) made one
    more.env.loader = ChoiceLoader([FileSystemLoader(directory), portal_loader])
    templating.install(more.env)
    more.env.filters.update(templates.env.filters)
    more.env.globals.update(templates.env.globals)
    return more


def page(
    request: Request, name: str, status_code: int = 200, *, using: Jinja2Templates = templates, **context: Any
) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    csrf = session.csrf_token if session is not None else request.state.pre_csrf
    context.setdefault("account", getattr(request.state, "account", None))
    context.setdefault("language", language_of(request, context["account"]))
    context.setdefault("languages", choices(context["account"]))
    context.setdefault("zone", request.app.state.settings.timezone)  # times that belong to no site
    return using.TemplateResponse(request, name, {"csrf": csrf, "session": session, **context}, status_code=status_code)
