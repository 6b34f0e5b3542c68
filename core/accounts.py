"""Creating sites, gates and staff accounts: the administrator's set-up actions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import time
from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.fields import CharField
from tortoise.transactions import in_transaction

from core import audit, zones
from core.errors import NotFound, UserError
from core.i18n import Message, _, _p
from core.models import Gate, Site, SiteKind, StaffAccount, StaffRole
from core.passwords import Passwords
from core.text import clean_name

_STAFF_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
ROLE_LABELS: dict[StaffRole, Message] = {
    StaffRole.STAFF: _p("role", "school or board staff"),
    StaffRole.SUPPORT: _p("role", "support desk"),
    StaffRole.ADMIN: _p("role", "administrator"),
}
SITE_KIND_LABELS: dict[SiteKind, Message] = {
    SiteKind.SCHOOL: _p("site kind", "school"),
    SiteKind.HALL: _p("site kind", "children's hall"),
}


@dataclass(frozen=True)
class IssuedSecret:
    """A secret shown once to whoever created it; only its hash is kept."""

    account_id: int
    secret: str


def gate_key_hash(key: str) -> str:
    # A gate key is 256 random bits, so a plain SHA-256 is enough and allows lookup by hash.
    return hashlib.sha256(key.encode("ascii", "replace")).hexdigest()


async def add_site(
    name: str,
    kind: SiteKind,
    *,
    has_camera: bool | None = None,
    cutoff: time = time(12, 0),
    timezone: str = zones.DEFAULT_NAME,
    actor: str,
) -> Site:
    """``timezone`` is the site's own (``Settings.timezone`` where a person adds one)."""
    name = clean_name(name, what=_("The site name"))
    if not name:
        raise UserError(_("A site needs a name."))
    camera = kind is SiteKind.SCHOOL if has_camera is None else has_camera
    async with in_transaction():
        try:
            site = await Site.create(name=name, kind=kind, has_camera=camera, cutoff=cutoff, timezone=timezone)
        except IntegrityError:
            raise UserError(_("There is already a site named %(name)s.", name=name)) from None
        await audit.record(actor, "site.add", target=f"site:{site.id}", details={"kind": kind})
    return site


async def site_named(name: str) -> Site:
    """The site called ``name``; NotFound also for a name longer than any site's (which the
    database driver would refuse to compare)."""
    name = name.strip()
    fits = len(name) <= cast(CharField[str], Site._meta.fields_map["name"]).max_length
    site = await Site.get_or_none(name=name) if fits else None
    if site is None:
        raise NotFound(_("There is no site named %(name)s.", name=name))
    return site


SITE_TIMES = ("cutoff", "check_time")  # a first passage after the cut-off is 下校; the check finds who is not seen


async def set_site_time(site_id: int, which: str, value: time, *, actor: str) -> Site:
    """Change one of a site's times of day (``SITE_TIMES``), audited."""
    if which not in SITE_TIMES:
        raise ValueError(f"{which} is not a site's time")
    site = await Site.get_or_none(id=site_id)
    if site is None:
        raise NotFound(_("There is no such site."))
    setattr(site, which, value)
    await site.save(update_fields=[which])
    await audit.record(actor, f"site.{which}", target=f"site:{site.id}", details={which: value.strftime("%H:%M")})
    return site


async def add_gate(site_name: str, gate_name: str, *, actor: str) -> tuple[Gate, str]:
    """Create a gate; returns it with its key, which is never stored or shown again."""
    gate_name = clean_name(gate_name, what=_("The gate name"))
    site = await site_named(site_name)
    key = secrets.token_urlsafe(32)
    async with in_transaction():
        try:
            gate = await Gate.create(site=site, name=gate_name, key_hash=gate_key_hash(key))
        except IntegrityError:
            raise UserError(_("%(site)s already has a gate named %(gate)s.", site=site.name, gate=gate_name)) from None
        await audit.record(actor, "gate.add", target=f"gate:{gate.id}", details={"site": site.id})
    return gate, key


async def add_staff(
    login_id: str,
    role: StaffRole,
    site_names: list[str],
    passwords: Passwords,
    *,
    actor: str,
) -> IssuedSecret:
    """Create a staff account with a one-time password (to change at first login)."""
    if not _STAFF_LOGIN.fullmatch(login_id):
        raise UserError(_("A staff login is 3 to 64 letters, digits, dots, dashes or underscores."))
    if role is StaffRole.STAFF and not site_names:
        raise UserError(_("A staff account needs at least one site (--site)."))
    sites = [await site_named(name) for name in site_names]
    password, stored = passwords.issue_one_time()
    async with in_transaction():
        try:
            staff = await StaffAccount.create(login_id=login_id, role=role, password_hash=stored)
        except IntegrityError:
            raise UserError(_("There is already a staff account %(login)s.", login=login_id)) from None
        if sites:
            await staff.sites.add(*sites)
        await audit.record(
            actor,
            "staff.add",
            target=f"staff:{staff.id}",
            details={"login_id": login_id, "role": role, "sites": [s.id for s in sites]},
        )
    return IssuedSecret(staff.id, password)
