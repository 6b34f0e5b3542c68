"""Building the FastAPI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from core.config import Settings
from portal.routes import home, ingest

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Mimamori", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(home.router)
    app.include_router(ingest.router)
    app.add_exception_handler(ingest.Refused, ingest.answer_refused)
    return app
