"""Serving a fake's aiohttp app on a free loopback port, in the test's own event loop.

``stop()`` then ``start()`` again plays an outage: the same port refuses connections meanwhile.
"""

from __future__ import annotations

from aiohttp import web


class LoopbackServer:
    url = ""
    _runner: web.AppRunner | None = None
    _port = 0

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self):  # -> Self
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self._port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
