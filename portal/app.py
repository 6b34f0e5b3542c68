"""Building the FastAPI application."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from core.config import Settings
from portal.routes import home

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The portal; ``extra_routers`` (the bots' webhooks) are included after its own routes."""
    app = FastAPI(title="Mimamori", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(home.router)
    for router in extra_routers:
        app.include_router(router)
    return app
