"""Wiring the delivery engine: the transports the settings ask for, and the worker running them."""

from __future__ import annotations

import asyncio
import logging

from core.config import Settings
from core.delivery.transport import Transport
from core.delivery.worker import DeliveryWorker
from core.models import Channel
from core.scheduler import Scheduler
from mail.smtp import SmtpTransport

log = logging.getLogger(__name__)


def build_transports(settings: Settings) -> dict[Channel, Transport]:
    """The chat SDKs are imported only when configured: aiogram alone costs ~120 MB of memory."""
    transports: dict[Channel, Transport] = {Channel.EMAIL: SmtpTransport(settings.smtp)}
    if settings.telegram.token is not None:
        from bot.telegram_transport import TelegramTransport

        transports[Channel.TELEGRAM] = TelegramTransport(settings.telegram)
    if settings.line.access_token is not None:
        from bot.line_transport import LineTransport

        transports[Channel.LINE] = LineTransport(settings.line)
    return transports


async def run_delivery(settings: Settings, stop: asyncio.Event) -> None:
    """Run one delivery worker until ``stop``; the transports are closed on the way out."""
    transports = build_transports(settings)
    log.info("delivery worker sending on %s", ", ".join(c.value for c in transports))
    try:
        await DeliveryWorker(settings, transports).run(stop)
    finally:
        for transport in transports.values():
            await transport.close()


async def run_scheduler(settings: Settings, stop: asyncio.Event) -> None:
    """Run the periodic domain work (fan-out, escalation, silent gates, expiry) until ``stop``.

    It runs wherever a delivery worker runs: each job is safe with several at once (core.scheduler)."""
    await Scheduler(settings).run(stop)
