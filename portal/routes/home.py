"""The front page and the health check."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from portal.templating import page

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def front_page(request: Request) -> Response:
    return page(request, "home.html")


@router.get("/healthz", response_class=PlainTextResponse)
async def health() -> str:
    return "ok"
