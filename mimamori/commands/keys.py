"""``mimamori keys``: the sealing keys, and the DKIM key our mail is signed with."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime, timedelta

import click

from core import rotation, zones
from core.channels import line_photos
from core.config import Settings
from core.i18n import _, _n
from core.i18n.dates import format_datetime
from core.keyring import Keyring, KeyringError
from mail.dkim_signing import dns_record
from mimamori.cli import N_, echo, language, run, settings_of, told
from mimamori.runtime import Runtime, opened


@click.group("keys", help=N_("Sealing keys (encryption at rest)."))
def command() -> None:
    pass


@command.command(
    "rotate", help=N_("Add a new key, make it current, and re-seal every row with it (the service may run).")
)
@click.pass_context
def rotate(ctx: click.Context) -> None:
    settings = settings_of(ctx)
    keyring = Keyring.open(settings.keyring)
    kid = keyring.add_key()
    # Subscriptions made from now on use the new VAPID key; the old ones stay signed with the key
    # each was made with (its id is in the address), which therefore stays in the keyring.
    vapid = keyring.add_vapid_key() if keyring.vapid_keys else None
    keyring.save()
    echo(_("Key %(key)s added and made current.", key=kid))
    if vapid is not None:
        echo(_("Web push key %(key)s added and made current.", key=vapid))
    run(_reseal(settings))


@command.command("reseal", help=N_("Re-seal rows still on an older key (to finish an interrupted rotation)."))
@click.pass_context
def reseal(ctx: click.Context) -> None:
    run(_reseal(settings_of(ctx)))


async def _reseal(settings: Settings) -> None:
    async with opened(settings) as runtime:
        total = await rotation.count_sealed()
        label = told(_("Re-sealing"))
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            found = await rotation.reseal_all(runtime.sealer, progress=bar.update)
        _print_counts(runtime, found)


def _print_counts(runtime: Runtime, found: Counter[str]) -> None:
    current = runtime.sealer.current_key_id
    moved = sum(n for kid, n in found.items() if kid != current)
    echo(
        _n(
            "%(num)d sealed value, %(moved)d re-sealed with key %(key)s.",
            "%(num)d sealed values, %(moved)d re-sealed with key %(key)s.",
            sum(found.values()),
            moved=moved,
            key=current,
        )
    )


@command.command(
    "dkim", help=N_("Make the DKIM signing key unless the keyring holds one, and print the DNS record to publish.")
)
@click.pass_context
def dkim(ctx: click.Context) -> None:
    settings = settings_of(ctx)
    keyring = Keyring.open(settings.keyring, create=True)
    if keyring.add_dkim_key():
        keyring.save()
        echo(_("A DKIM key (RSA-2048) was added to the keyring."), err=True)
    assert keyring.dkim_key is not None  # made above if it was missing
    selector, domain = settings.smtp.dkim_selector, settings.smtp.dkim_domain or "<smtp.dkim_domain>"
    echo(
        _(
            "Publish this record, then set %(setting)s (%(name)s):",
            setting="smtp.dkim = true",
            name=f"{selector}._domainkey.{domain}",
        ),
        err=True,
    )
    click.echo(dns_record(keyring.dkim_key, selector=selector, domain=domain))


@command.command("webpush", help=N_("Make the web push (VAPID) key pair unless the keyring holds one."))
@click.pass_context
def webpush(ctx: click.Context) -> None:
    keyring = Keyring.open(settings_of(ctx).keyring, create=True)
    if keyring.vapid_current is None:
        keyring.add_vapid_key()
        keyring.save()
        echo(_("Web push key %(key)s added and made current.", key=keyring.vapid_current))
    else:
        echo(_("The keyring holds web push key %(key)s.", key=keyring.vapid_current))


@command.command("list", help=N_("List the keys; the current one is marked *."))
@click.option("--count", is_flag=True, help=N_("Also count the values sealed with each key."))
@click.pass_context
def list_keys(ctx: click.Context, count: bool) -> None:
    settings = settings_of(ctx)
    keyring = Keyring.open(settings.keyring)
    counts = run(_count(settings)) if count else {}
    for kid in keyring.keys:
        mark = "*" if kid == keyring.current_id else " "
        line = _("created %(when)s", when=keyring.created.get(kid) or "?")
        if count:
            line = _n(
                "created %(when)s, %(num)d value",
                "created %(when)s, %(num)d values",
                counts.get(kid, 0),
                when=keyring.created.get(kid) or "?",
            )
        click.echo(f"{mark} {kid}  {told(line)}")


async def _still_needed(settings: Settings, key_id: str, replaced_at: datetime) -> tuple[int, datetime | None]:
    """How many values are still sealed with ``key_id``, and until when photo links sent to LINE
    with it may still open (None: none can)."""
    async with opened(settings):
        sealed = (await rotation.count_by_key()).get(key_id, 0)
        lifetime = timedelta(minutes=settings.line.photo_link_minutes)
        return sealed, await line_photos.links_end(replaced_at, lifetime)


async def _count(settings: Settings) -> Counter[str]:
    async with opened(settings):
        return await rotation.count_by_key()


@command.command("retire", help=N_("Remove an old key once no value is sealed with it any more."))
@click.argument("key_id")
@click.pass_context
def retire(ctx: click.Context, key_id: str) -> None:
    settings = settings_of(ctx)
    keyring = Keyring.open(settings.keyring)
    if key_id == keyring.current_id or key_id not in keyring.keys:
        keyring.retire(key_id)  # raises the precise reason
    still, links_end = run(_still_needed(settings, key_id, keyring.replaced_at(key_id)))
    if still:
        raise KeyringError(
            _n(
                "%(num)d value is still sealed with %(key)s: run %(command)s first.",
                "%(num)d values are still sealed with %(key)s: run %(command)s first.",
                still,
                key=key_id,
                command="`mimamori keys reseal`",
            )
        )
    if links_end is not None:
        zone = zones.zone(settings.timezone)
        raise KeyringError(
            _(
                "Photo links sent to LINE open with %(key)s until %(when)s (%(zone)s): retire it after that.",
                key=key_id,
                when=format_datetime(links_end, language(), zone, "short"),
                zone=settings.timezone,
            )
        )
    keyring.retire(key_id)
    keyring.save()
    echo(_("Key %(key)s retired.", key=key_id))
