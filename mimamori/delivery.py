"""Wiring the delivery engine: the transports the settings ask for, and the worker running them."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from typing import Any

from core.channels import CHANNELS
from core.config import Settings
from core.delivery.transport import Transport
from core.delivery.worker import DeliveryWorker
from core.keyring import Keyring
from core.models import Channel
from core.scheduler import Scheduler
from mail.dkim_signing import signer_for

log = logging.getLogger(__name__)


def check_signing(settings: Settings) -> None:
    """Before anything starts: DKIM on without a key stops start-up with one line (KeyringError),
    rather than a delivery part that fails and is started again until the process gives up."""
    signer_for(settings.smtp, Keyring.open(settings.keyring, create=True))


def build_transports(settings: Settings) -> dict[Channel, Transport]:
    """The transport of each configured channel, named in the registry by a dotted path that is imported
    only then: the chat SDKs cost memory (aiogram alone ~120 MB) that a mail-only worker need not pay."""
    transports: dict[Channel, Transport] = {}
    for channel, facts in CHANNELS.items():
        section = getattr(settings, facts.settings_section)
        if facts.enabled(section):
            transports[channel] = transport_factory(facts.transport)(section)
    return transports


def transport_factory(path: str) -> Callable[[Any], Transport]:
    """``"package.module:Name"`` imported: what builds a channel's transport from its settings section."""
    module, _, name = path.partition(":")
    factory: Callable[[Any], Transport] = getattr(importlib.import_module(module), name)
    return factory


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
