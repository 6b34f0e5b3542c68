"""A browser-like HTTP client for walking the portal: cookies kept, forms sent with their CSRF token."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """An httpx client that, like a browser, keeps cookies and sends forms with their CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.last_csrf: str | None = None

    async def get(self, url: str, **kwargs) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.last_csrf = found.group(1)
        return response

    async def csrf(self) -> str:
        if self.last_csrf is None:
            await self.get("/")  # logged in: the logout form carries the session's token
        if self.last_csrf is None:
            await self.get("/login")
        return self.last_csrf

    async def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", await self.csrf())
        response = await self.client.post(url, data=form, **kwargs)
        found = _CSRF.search(response.text)
        self.last_csrf = found.group(1) if found else None  # after a redirect, read the next page's
        return response

    async def refresh_csrf(self, url: str = "/") -> None:
        self.last_csrf = None
        await self.get(url)
