"""The Prometheus endpoint of ``serve`` and ``worker``: ``GET /metrics`` on its own port.

Off unless ``[metrics] enabled``; bound to 127.0.0.1 by default, and a bearer token is required
by the settings before it may listen anywhere else. With a multiprocess directory every process of
the machine writes there and whichever holds the port answers for all: the others find the port
taken, say so once, and try again now and then (so one takes over when the holder stops).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import suppress

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from core import metrics
from core.config import MetricsSettings, Settings

log = logging.getLogger(__name__)

RETRY_BIND_SECONDS = 30.0
READ_TIMEOUT_SECONDS = 10.0
MAX_REQUEST_BYTES = 8192


def prepare_metrics(settings: Settings) -> None:
    """Before any count is recorded: use the multiprocess directory if one is set."""
    if settings.metrics.multiprocess_dir is not None:
        metrics.use_multiprocess_dir(settings.metrics.multiprocess_dir)


async def serve_metrics(settings: Settings, stop: asyncio.Event) -> None:
    """Answer scrapes until ``stop``; returns at once when metrics are disabled."""
    if not settings.metrics.enabled:
        return
    prepare_metrics(settings)
    collector = metrics.DatabaseCollector(settings)
    registry = metrics.scrape_registry(collector)
    endpoint = _Endpoint(settings.metrics, collector, registry)
    said_taken = False
    while not stop.is_set():
        try:
            server = await asyncio.start_server(endpoint.answer, settings.metrics.host, settings.metrics.port)
        except OSError as exc:
            if not said_taken:
                said_taken = True
                log.warning(
                    "metrics: cannot listen on %s:%d (%s); trying again every %.0f s",
                    settings.metrics.host,
                    settings.metrics.port,
                    exc.strerror or exc,
                    RETRY_BIND_SECONDS,
                )
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_BIND_SECONDS)
            continue
        log.info("metrics: listening on http://%s:%d/metrics", settings.metrics.host, settings.metrics.port)
        async with server:
            await stop.wait()
        return


class _Endpoint:
    def __init__(
        self, settings: MetricsSettings, collector: metrics.DatabaseCollector, registry: CollectorRegistry
    ) -> None:
        self._token = settings.token.get_secret_value() if settings.token else None
        self._collector = collector
        self._registry = registry
        self._lock = asyncio.Lock()  # one scrape reads the database at a time

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_SECONDS)
            status, content_type, body = await self._respond(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        except Exception:  # a bug in a collector: this scrape fails, the endpoint goes on
            log.exception("metrics: a scrape failed")
            status, content_type, body = "500 Internal Server Error", "text/plain", b"scrape failed\n"
        extra = 'WWW-Authenticate: Bearer realm="mimamori"\r\n' if status.startswith("401") else ""
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"{extra}Connection: close\r\n\r\n".encode("ascii")
            + body
        )
        with suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _respond(self, head: bytes) -> tuple[str, str, bytes]:
        if len(head) > MAX_REQUEST_BYTES:
            return "431 Request Header Fields Too Large", "text/plain", b"too large\n"
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method != "GET" or path != "/metrics":
            return "404 Not Found", "text/plain", b"only GET /metrics here\n"
        if self._token is not None and not self._authorised(lines[1:]):
            return "401 Unauthorized", "text/plain", b"a bearer token is needed\n"
        async with self._lock:
            await self._collector.refresh()
            body = await asyncio.to_thread(generate_latest, self._registry)
        return "200 OK", CONTENT_TYPE_LATEST, body

    def _authorised(self, headers: list[str]) -> bool:
        for line in headers:
            name, _, value = line.partition(":")
            if name.strip().lower() == "authorization":
                scheme, _, token = value.strip().partition(" ")
                return scheme.lower() == "bearer" and secrets.compare_digest(token.strip(), self._token or "")
        return False
