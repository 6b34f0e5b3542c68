"""What an administrator does to a gate or a staff account, each audited: revoke a gate, reset a
staff member's password and second factor, disable an account."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from core import audit, login
from core.models import Gate, StaffAccount
from core.passwords import Passwords
from core.sessions import end_all_sessions


async def revoke_gate(gate_id: int, *, actor: str) -> bool:
    """Its key stops working; False when there is no such gate still in service."""
    async with in_transaction():
        revoked = await Gate.filter(id=gate_id, revoked_at__isnull=True).update(revoked_at=datetime.now(UTC))
        if revoked:
            await audit.record(actor, "gate.revoke", target=f"gate:{gate_id}")
    return bool(revoked)


async def reset_staff(staff: StaffAccount, *, passwords: Passwords, actor: str) -> str:
    """A new one-time password and a new second factor to enrol (for a lost phone, too)."""
    staff.totp_secret, staff.totp_enrolled_at, staff.totp_last_step = None, None, None
    await staff.save(update_fields=["totp_secret", "totp_enrolled_at", "totp_last_step"])
    return await login.reset_password(
        staff, passwords=passwords, actor=actor, reason="administrator reset (password and second factor)"
    )


async def disable_staff(staff: StaffAccount, *, actor: str) -> None:
    staff.disabled_at = datetime.now(UTC)
    await staff.save(update_fields=["disabled_at"])
    await end_all_sessions(staff_id=staff.id)
    await audit.record(actor, "staff.disable", target=f"staff:{staff.id}")
