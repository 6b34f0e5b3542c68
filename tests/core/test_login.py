"""Login checks: the same work for an unknown ID as for a wrong password, device cookies."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core.login import AccountKind, LoginOutcome, authenticate, new_device_cookie
from core.passwords import Passwords
from tests.factories import make_guardian


@pytest.fixture
def counted(passwords: Passwords, monkeypatch) -> list[str]:
    """Every Argon2 verification the login makes (the costly step an attacker could time)."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def verify(self: PasswordHasher, stored: str, candidate: str) -> bool:
        calls.append(stored)
        return real(self, stored, candidate)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return calls


async def _try(passwords: Passwords, login_id: str, password: str, client: str = "192.0.2.1"):
    return await authenticate(
        AccountKind.GUARDIAN, login_id, password, client=client, device_cookie=None, passwords=passwords
    )


async def test_unknown_ids_wrong_passwords_and_one_time_passwords_all_cost_one_argon2_check(
    passwords: Passwords, counted: list[str]
) -> None:
    chosen = await make_guardian("山田 恵子")
    chosen.password_hash = passwords.hash("my-own-password")
    await chosen.save()
    fresh = await make_guardian("佐藤 直樹")
    _, fresh.password_hash = passwords.issue_one_time()
    await fresh.save()

    for login_id in ("NOSUCHID", chosen.login_id, fresh.login_id):
        counted.clear()
        result = await _try(passwords, login_id, "wrong-guess")
        assert result.outcome is LoginOutcome.REFUSED and result.account is None
        assert len(counted) == 1, login_id


async def test_a_forged_device_cookie_counts_for_nothing(passwords: Passwords, counted: list[str]) -> None:
    guardian = await make_guardian()
    cookie = new_device_cookie(AccountKind.GUARDIAN, "SOMEONEELSE")
    result = await authenticate(
        AccountKind.GUARDIAN, guardian.login_id, "x", client="192.0.2.9", device_cookie=cookie, passwords=passwords
    )
    assert result.outcome is LoginOutcome.REFUSED
    for n in range(6):
        await authenticate(
            AccountKind.GUARDIAN,
            guardian.login_id,
            "x",
            client=f"192.0.2.{20 + n}",
            device_cookie=cookie,
            passwords=passwords,
        )
    again = await authenticate(
        AccountKind.GUARDIAN, guardian.login_id, "x", client="192.0.2.25", device_cookie=cookie, passwords=passwords
    )
    assert again.outcome is LoginOutcome.THROTTLED  # the slowed account's slow path, as without a cookie
    real = new_device_cookie(AccountKind.GUARDIAN, guardian.login_id)
    known = await authenticate(
        AccountKind.GUARDIAN, guardian.login_id, "x", client="192.0.2.25", device_cookie=real, passwords=passwords
    )
    assert known.outcome is LoginOutcome.REFUSED  # a real device cookie is counted on its own


async def test_failures_are_audited_alike_without_recording_unknown_ids(passwords: Passwords) -> None:
    from core.models import AuditEntry

    guardian = await make_guardian()
    await _try(passwords, guardian.login_id, "wrong")
    await _try(passwords, "MYSECRETPASSWORD", "wrong")  # a password typed into the ID field
    entries = await AuditEntry.filter(action="login.failed").order_by("id")
    assert [(e.actor, e.target) for e in entries] == [
        (f"guardian:{guardian.login_id}", f"guardian:{guardian.id}"),
        ("guardian:?", None),
    ]
