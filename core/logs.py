"""How every long-running command logs: text or JSON lines, and never personal data.

``configure_logging(settings)`` is the one set-up. A JSON line carries the time, level, logger,
message, and the portal request's id or the delivery's id when the event has one (set with
``request_context`` / ``delivery_context``, or ``extra={"delivery_id": ...}``).

``PersonalDataFilter`` is the safety net under every line: mail addresses, the credentials in
paths (``CREDENTIAL_PATHS``: ``/ack/<token>``, ``/photos/<token>``, ``/unsubscribe/<token>``, …), query strings (a support
search's name) and bot tokens in URLs are masked, and what a client sent cannot make a line
long: each argument and each exception's text in a traceback is cut at ``LONGEST``. It cannot
know a name or a chat id, so code must not log them; the full-walk test greps for them.
Tortoise's and aiosqlite's debug lines carry SQL parameters, so those loggers stay at INFO
whatever the level.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import secrets
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from core.config import LoggingSettings, Settings
from core.outage import is_database_outage

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
delivery_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("delivery_id", default=None)

# whose DEBUG lines hold query parameters or message contents
QUIET_LOGGERS = ("tortoise", "aiosqlite", "asyncpg", "aiosmtplib", "aioimaplib", "mail.log")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The portal's paths whose next segment is a credential: a link that works without a login.
# Every other path parameter is a numeric id (a test in tests/portal/test_logs_and_login_metrics.py checks the routes).
CREDENTIAL_PATHS = ("ack", "photos", "chat-photos", "verify", "register", "unsubscribe", "attendance/answer")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
LONGEST = 300  # characters kept of one argument or one exception's text

_MASKS = (
    (re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"), "<address>"),
    (re.compile(rf"/({'|'.join(map(re.escape, CREDENTIAL_PATHS))})/[^/\s?\"']+"), r"/\1/<token>"),
    (re.compile(r"/bot\d+:[\w-]+"), "/bot<token>"),
    (re.compile(r"\?[^\s\"']+"), "?<query>"),
)


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class PersonalDataFilter(logging.Filter):
    """Masks what looks like personal data in a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):  # kept a tuple: uvicorn's access formatter reads it
            record.args = tuple(_masked_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(_bounded_traceback(record.exc_info))
        return True


def _masked_arg(value: object) -> object:
    """An argument as it was, unless its text holds something to mask (httpx passes URL objects)
    or is longer than a line should be (a client's 8 kB path)."""
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    masked = _bounded(mask(text))
    return value if masked == text else masked


def _bounded(text: str) -> str:
    return text if len(text) <= LONGEST else f"{text[:LONGEST]}…<{len(text) - LONGEST} more>"


def _bounded_traceback(exc_info: Any) -> str:
    """The traceback, each exception's own text cut at ``LONGEST``: it may quote a request's input."""
    top = traceback.TracebackException(*exc_info)
    parts, seen = [top], set()
    while parts:
        part = parts.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        # the text ``format`` prints after the type (no public way, so typeshed does not declare it)
        part._str = _bounded(part._str)  # type: ignore[attr-defined]  # private attribute, see above
        parts += [p for p in (part.__cause__, part.__context__, *(part.exceptions or ())) if p is not None]
    return "".join(top.format()).rstrip("\n")


class DriverReconnects(logging.Filter):
    """asyncpg's pool logs a traceback each time it fails to reconnect while the server is away;
    the loops that use the database already say so once (core.rounds), so those lines are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.exc_info[1] and is_database_outage(record.exc_info[1]))


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request := getattr(record, "request_id", None) or request_id.get()) is not None:
            event["request_id"] = request
        if (delivery := getattr(record, "delivery_id", None) or delivery_id.get()) is not None:
            event["delivery_id"] = delivery
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["exception"] = record.exc_text
        return json.dumps(event, ensure_ascii=False, default=str)


def configure_logging(settings: Settings | LoggingSettings) -> None:
    """Set up the root logger for a long-running command (replacing what was there)."""
    chosen = settings.logging if isinstance(settings, Settings) else settings
    level = getattr(logging, chosen.level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen.format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    pool = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, DriverReconnects) for f in pool.filters):
        pool.addFilter(DriverReconnects())
    # A uvicorn started with its own log config (anywhere in this process) leaves the access log
    # with its own handler and level, not propagating: taken back, its lines go through the handler above.
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.setLevel(logging.NOTSET)
        uvicorn_logger.propagate, uvicorn_logger.disabled = True, False
    # A logger's filters outlive a later dictConfig, so the access log's paths stay masked.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PersonalDataFilter) for f in access.filters):
        access.addFilter(PersonalDataFilter())


@contextlib.contextmanager
def request_context(given: str | None = None) -> Iterator[str]:
    """The id of one portal request: the proxy's ``X-Request-ID`` when sane, else a new one."""
    value = given if given and re.fullmatch(r"[\w.-]{8,64}", given) else secrets.token_hex(8)
    token = request_id.set(value)
    try:
        yield value
    finally:
        request_id.reset(token)


@contextlib.contextmanager
def delivery_context(delivery: int) -> Iterator[None]:
    token = delivery_id.set(delivery)
    try:
        yield
    finally:
        delivery_id.reset(token)
