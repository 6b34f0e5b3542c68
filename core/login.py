"""Logging in guardians and staff, and changing a password.

The rule (core.throttle gives the growing, capped delays):
- failures are counted per client network (an IPv4 address, an IPv6 /64) across all accounts, and
  per account from that network (or from that browser, when it carries the account's device cookie
  from an earlier login); either one slows down only the place the failures come from;
- failures are also counted per account from anywhere. Once those slow the account down, a network
  without the device cookie is not refused but goes the slow path: one attempt per
  ``SLOW_PATH_EVERY`` on that account, checked as usual. So a stranger who knows the login ID
  printed on the letter cannot keep the family out (their first login, from a new phone, gets
  through at once), while guessing stays hopeless: see NOTES-accounts.md for the numbers.
An unknown login ID and a wrong password get the same answer after the same work (one Argon2
verification each).
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from core import actors, audit, blind_indexes, metrics, throttle
from core.blind_indexes import Purpose
from core.errors import UserError
from core.i18n import _, _n
from core.identifiers import compact_code
from core.models import Guardian, StaffAccount
from core.passwords import Passwords
from core.sessions import end_all_sessions

OWN_POLICY = throttle.ThrottlePolicy(free_attempts=5, base_delay=timedelta(seconds=2))  # account × network
CLIENT_POLICY = throttle.ThrottlePolicy(free_attempts=20, base_delay=timedelta(seconds=2))
ACCOUNT_POLICY = throttle.ThrottlePolicy(free_attempts=5, base_delay=timedelta(seconds=2))
SLOW_PATH_EVERY = timedelta(seconds=30)
MIN_PASSWORD_LENGTH = 10
Account = Guardian | StaffAccount


class AccountKind(StrEnum):
    GUARDIAN = "guardian"
    STAFF = "staff"


class LoginOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # unknown login ID or wrong password: never says which
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    account: Account | None = None
    retry_after: timedelta | None = None
    device: str | None = None  # the device cookie to set after a success


def normalise_login(kind: AccountKind, login_id: str) -> str:
    return compact_code(login_id) if kind is AccountKind.GUARDIAN else login_id.strip()


def account_key(kind: AccountKind, login_id: str) -> str:
    """The throttle key of an account (also for IDs that do not exist: same behaviour)."""
    return f"login:{kind.value}:{normalise_login(kind, login_id)}"


def client_network(host: str) -> str:
    """Where failures are counted from: the address, or its /64 (one IPv6 subscriber holds a whole /64)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True)
class _LoginKeys:
    own: str  # this account from this network, or from this device
    client: str  # this network, any account
    account: str  # this account, from anywhere
    slow_path: str | None  # this account's slow-path slot for this network (None: a known device)


def _login_keys(kind: AccountKind, login: str, client: str, device_cookie: str | None) -> _LoginKeys:
    network = client_network(client)
    account = account_key(kind, login)
    nonce = _device_nonce(kind, login, device_cookie)
    if nonce:
        return _LoginKeys(f"login-device:{nonce}", f"login-client:{network}", account, None)
    return _LoginKeys(f"{account}:from:{network}", f"login-client:{network}", account, f"{account}:slow:{network}")


async def _wait(keys: _LoginKeys) -> timedelta:
    """Zero to go ahead (having taken the slow-path slot if the account is slowed down)."""
    wait = max(await throttle.wait_before_next(keys.own), await throttle.wait_before_next(keys.client))
    if wait or keys.slow_path is None or not await throttle.wait_before_next(keys.account):
        return wait
    return await throttle.claim_slot(keys.slow_path, SLOW_PATH_EVERY)


def _device_mac(kind: AccountKind, login_id: str, nonce: str) -> str:
    return blind_indexes.index(Purpose.LOGIN_DEVICE, f"{kind.value}:{login_id}:{nonce}")[:32]


def new_device_cookie(kind: AccountKind, login_id: str) -> str:
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_device_mac(kind, login_id, nonce)}"


def _device_nonce(kind: AccountKind, login_id: str, cookie: str | None) -> str | None:
    if not cookie or "." not in cookie:
        return None
    nonce, mac = cookie.split(".", 1)
    return nonce if secrets.compare_digest(mac, _device_mac(kind, login_id, nonce)) else None


class _Dummy:
    """An Argon2 hash to verify against when there is no account, so both cases cost the same."""

    stored: str | None = None

    @classmethod
    def get(cls, passwords: Passwords) -> str:
        if cls.stored is None:
            cls.stored = passwords.hash(secrets.token_urlsafe(16))
        return cls.stored


async def find_account(kind: AccountKind, login_id: str) -> Account | None:
    login = normalise_login(kind, login_id)
    if kind is AccountKind.GUARDIAN:
        return await Guardian.get_or_none(login_id=login)
    return await StaffAccount.get_or_none(login_id=login, disabled_at__isnull=True)


async def authenticate(
    kind: AccountKind,
    login_id: str,
    password: str,
    *,
    client: str,
    device_cookie: str | None,
    passwords: Passwords,
) -> LoginResult:
    login = normalise_login(kind, login_id)
    keys = _login_keys(kind, login, client, device_cookie)
    wait = await _wait(keys)
    if wait:
        metrics.login_throttled(kind.value)
        return LoginResult(LoginOutcome.THROTTLED, retry_after=wait)
    account = await find_account(kind, login) if login else None
    ok = await asyncio.to_thread(_check_password, passwords, account, password)
    if not ok or account is None:  # (never ok without an account)
        metrics.login_failed(kind.value)
        await throttle.record_failure(keys.own, OWN_POLICY)
        await throttle.record_failure(keys.client, CLIENT_POLICY)
        await throttle.record_failure(keys.account, ACCOUNT_POLICY)
        # Written for unknown IDs too (without what was typed): the same work either way.
        await audit.record(
            actors.login_attempt(kind.value, login if account else None),
            "login.failed",
            target=_target(account) if account else None,
        )
        return LoginResult(LoginOutcome.REFUSED)
    # Only the place that succeeded starts afresh: the account's own count keeps slowing guessers.
    await throttle.reset(keys.own)
    if isinstance(account, StaffAccount):  # (AccountKind.STAFF)
        await audit.record(actors.staff(account), "login", target=_target(account))
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(passwords.hash, password)
        await account.save(update_fields=["password_hash"])
    return LoginResult(LoginOutcome.OK, account=account, device=new_device_cookie(kind, login))


def _check_password(passwords: Passwords, account: Account | None, password: str) -> bool:
    """Always exactly one Argon2 verification, whatever the account and its stored form."""
    if account is None or Passwords.is_one_time(account.password_hash):
        passwords.verify(_Dummy.get(passwords), password)
    if account is None:
        return False
    return passwords.verify(account.password_hash, password)


def kind_of(account: Account) -> AccountKind:
    return AccountKind.GUARDIAN if isinstance(account, Guardian) else AccountKind.STAFF


def _target(account: Account) -> str:
    return f"{kind_of(account).value}:{account.id}"


async def unlock(kind: AccountKind, login_id: str) -> None:
    """Forget the account's failures (the support desk, for a guardian who was slowed down)."""
    await throttle.reset(account_key(kind, login_id))


def check_new_password(account: Account, new: str, confirm: str) -> None:
    if new != confirm:
        raise UserError(_("The two new passwords differ."))
    if len(new) < MIN_PASSWORD_LENGTH:
        raise UserError(
            _n(
                "A password needs at least %(num)d character.",
                "A password needs at least %(num)d characters.",
                MIN_PASSWORD_LENGTH,
            )
        )
    if compact_code(new) == compact_code(account.login_id):
        raise UserError(_("The login ID cannot be the password."))


async def change_password(account: Account, current: str, new: str, confirm: str, *, passwords: Passwords) -> None:
    """Change a password: every session of the account ends (the caller opens a new one)."""
    if not await asyncio.to_thread(passwords.verify, account.password_hash, current):
        raise UserError(_("The current password is wrong."))
    check_new_password(account, new, confirm)
    if await asyncio.to_thread(passwords.verify, account.password_hash, new):
        raise UserError(_("Choose a password you do not use now."))
    account.password_hash = await asyncio.to_thread(passwords.hash, new)
    account.must_change_password = False
    account.password_changed_at = datetime.now(UTC)
    await account.save(update_fields=["password_hash", "must_change_password", "password_changed_at"])
    await _end_sessions(account)
    await audit.record(actors.account(account), "password.change", target=_target(account))


async def _end_sessions(account: Account) -> None:
    if isinstance(account, Guardian):
        await end_all_sessions(guardian_id=account.id)
    else:
        await end_all_sessions(staff_id=account.id)


async def reset_password(account: Account, *, passwords: Passwords, actor: str, reason: str) -> str:
    """A new one-time password (returned once, never stored); every session of the account ends."""
    if not reason.strip():
        raise UserError(_("A reason is needed."))
    password, stored = passwords.issue_one_time()
    account.password_hash = stored
    account.must_change_password = True
    await account.save(update_fields=["password_hash", "must_change_password"])
    await _end_sessions(account)
    await throttle.reset(account_key(kind_of(account), account.login_id))
    await audit.record(actor, "password.reset", target=_target(account), reason=reason.strip())
    return password
