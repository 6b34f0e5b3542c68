"""The front page and the health check."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from portal.templating import templates

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def front_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html")


@router.get("/healthz", response_class=PlainTextResponse)
async def health() -> str:
    return "ok"
