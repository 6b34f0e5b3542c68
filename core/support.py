"""The support desk's tools: finding a guardian, and the actions it takes for one.

Each action needs a reason and is written to the audit log. The desk never sees or chooses a
password: a reset issues a one-time password, shown once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import audit, login
from core.blind_indexes import name_index, tag_index
from core.errors import NotFound, UserError
from core.identifiers import compact_code
from core.models import Delivery, DeliveryStatus, Guardian, Pupil, Tag, TagStatus
from core.passwords import Passwords
from core.text import clean_free_text

PROBLEM_DAYS = 30
RESULT_LIMIT = 100


def _reason(reason: str) -> str:
    reason = clean_free_text(reason).strip()
    if not reason:
        raise UserError("理由を入力してください。 A reason is needed.")
    return reason


async def find_guardians(
    *,
    login_id: str = "",
    name: str = "",
    school_id: int | None = None,
    grade: int | None = None,
    class_name: str = "",
) -> list[Guardian]:
    """Guardians by login ID, by the exact name of a guardian or pupil, or by school/grade/class."""
    if login_id.strip():
        return await Guardian.filter(login_id=compact_code(login_id))
    if name.strip():
        index = name_index(name)
        found = await Guardian.filter(name_index=index).limit(RESULT_LIMIT)
        found += await Guardian.filter(pupils__name_index=index).distinct().limit(RESULT_LIMIT)
        return list({g.id: g for g in found}.values())
    if school_id is not None:
        query = Guardian.filter(pupils__school_id=school_id)
        if grade is not None:
            query = query.filter(pupils__grade=grade)
        if class_name.strip():
            query = query.filter(pupils__class_name=class_name.strip())
        return await query.distinct().order_by("id").limit(RESULT_LIMIT)
    return []


async def delivery_problems(guardian_id: int) -> list[Delivery]:
    since = datetime.now(UTC) - timedelta(days=PROBLEM_DAYS)
    return (
        await Delivery.filter(
            guardian_id=guardian_id,
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.EXPIRED],
            queued_at__gte=since,
        )
        .order_by("-queued_at")
        .limit(50)
        .prefetch_related("address")
    )


async def reset_password(guardian: Guardian, *, passwords: Passwords, actor: str, reason: str) -> str:
    return await login.reset_password(guardian, passwords=passwords, actor=actor, reason=_reason(reason))


async def unlock(guardian: Guardian, *, actor: str, reason: str) -> None:
    reason = _reason(reason)
    await login.unlock(login.AccountKind.GUARDIAN, guardian.login_id)
    await audit.record(actor, "login.unlock", target=f"guardian:{guardian.id}", reason=reason)


async def replace_tag(pupil: Pupil, new_number: str, *, actor: str, reason: str) -> Tag:
    """Mark the pupil's active tags lost and give them ``new_number``."""
    reason = _reason(reason)
    number = compact_code(new_number)
    if not number:
        raise UserError("新しいタグ番号を入力してください。 Enter the new tag number.")
    index = tag_index(number)
    async with in_transaction():
        lost = await Tag.filter(pupil=pupil, status=TagStatus.ACTIVE).update(
            status=TagStatus.LOST, status_changed_at=datetime.now(UTC)
        )
        try:
            tag = await Tag.create(number=number, number_index=index, pupil=pupil)
        except IntegrityError:
            raise UserError("このタグ番号は既に使われています。 That tag number is already in use.") from None
        await audit.record(
            actor, "tag.replace", target=f"pupil:{pupil.id}", reason=reason, details={"lost": lost, "tag": tag.id}
        )
    return tag


async def guardian_of(guardian_id: int) -> Guardian:
    guardian = await Guardian.get_or_none(id=guardian_id)
    if guardian is None:
        raise NotFound("there is no such guardian")
    return guardian
