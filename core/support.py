"""The support desk's tools: finding a guardian, and the actions it takes for one.

Each action needs a reason and is written to the audit log. The desk never sees or chooses a
password: a reset issues a one-time password, shown once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import audit, login, throttle
from core.blind_indexes import name_index, tag_index
from core.errors import NotFound, UserError
from core.i18n import _
from core.identifiers import compact_code
from core.models import ContactAddress, Delivery, DeliveryStatus, Guardian, Pupil, Tag, TagStatus
from core.passwords import Passwords
from core.sealing import normalise
from core.text import clean_free_text

PROBLEM_DAYS = 30
RESULT_LIMIT = 100
_SPLIT_UP_TO = 24  # a name typed without its space is tried split at each place, up to this length
_SCAN_BATCH = 1000


class OneTimePasswordOut(UserError):
    """The guardian still has a one-time password from an earlier reset: a new one voids it."""


def _reason(reason: str) -> str:
    reason = clean_free_text(reason).strip()
    if not reason:
        raise UserError(_("A reason is needed."))
    return reason


async def find_guardians(
    *,
    login_id: str = "",
    name: str = "",
    school_id: int | None = None,
    grade: int | None = None,
    class_name: str = "",
) -> list[Guardian]:
    """Guardians by login ID, by the name of a guardian or pupil (with or without its space, or the
    surname alone), or by school/grade/class."""
    if login_id.strip():
        return await Guardian.filter(login_id=compact_code(login_id))
    if name.strip():
        return await _by_name(name)
    if school_id is None and (grade is not None or class_name.strip()):
        raise UserError(_("Choose a school to search by grade or class."))
    if school_id is not None:
        query = Guardian.filter(pupils__school_id=school_id)
        if grade is not None:
            query = query.filter(pupils__grade=grade)
        if class_name.strip():
            query = query.filter(pupils__class_name=class_name.strip())
        return await query.distinct().order_by("id").limit(RESULT_LIMIT)
    return []


async def _by_name(name: str) -> list[Guardian]:
    """Names are sealed and found by a blind index of the whole name: a name typed without its
    space is looked up split at each place; a single word is read as a surname, by unsealing the
    names (slow for a whole city, so only when nothing else matched)."""
    typed = normalise(name)
    found = await _by_name_indexes([name_index(n) for n in _spellings(typed)])
    if not found and " " not in typed:
        found = await _by_surname(typed)
    return found


def _spellings(typed: str) -> list[str]:
    if " " in typed or len(typed) > _SPLIT_UP_TO:
        return [typed]
    return [typed] + [f"{typed[:n]} {typed[n:]}" for n in range(1, len(typed))]


async def _by_name_indexes(indexes: list[str]) -> list[Guardian]:
    found = await Guardian.filter(name_index__in=indexes).limit(RESULT_LIMIT)
    found += await Guardian.filter(pupils__name_index__in=indexes).distinct().limit(RESULT_LIMIT)
    return list({g.id: g for g in found}.values())[:RESULT_LIMIT]


async def _by_surname(surname: str) -> list[Guardian]:
    guardian_ids: set[int] = set()
    for model, owner in ((Guardian, "id"), (Pupil, "guardians__id")):
        last = 0
        while len(guardian_ids) < RESULT_LIMIT:
            batch = await model.filter(id__gt=last).order_by("id").limit(_SCAN_BATCH).only("id", "name")
            if not batch:
                break
            last = batch[-1].id
            hits = [row.id for row in batch if normalise(row.name).split(" ")[0] == surname]
            if hits:
                ids = await model.filter(id__in=hits).values_list(owner, flat=True)
                guardian_ids.update(int(i) for i in ids if i is not None)  # type: ignore[call-overload]  # flat: ints
    return await Guardian.filter(id__in=sorted(guardian_ids)[:RESULT_LIMIT]).order_by("id")


async def login_wait(guardian: Guardian) -> timedelta:
    """How long the guardian's login is held back after wrong passwords (zero: not locked)."""
    return await throttle.wait_before_next(login.account_key(login.AccountKind.GUARDIAN, guardian.login_id))


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


async def reset_password(
    guardian: Guardian, *, passwords: Passwords, actor: str, reason: str, replacing: bool = False
) -> str:
    """A new one-time password; refused while an earlier one is still out, unless ``replacing`` it."""
    reason = _reason(reason)
    if guardian.must_change_password and not replacing:
        raise OneTimePasswordOut(_("This guardian has not yet used the one-time password issued before."))
    return await login.reset_password(guardian, passwords=passwords, actor=actor, reason=reason)


async def unlock(guardian: Guardian, *, actor: str, reason: str) -> None:
    reason = _reason(reason)
    await login.unlock(login.AccountKind.GUARDIAN, guardian.login_id)
    await audit.record(actor, "login.unlock", target=f"guardian:{guardian.id}", reason=reason)


async def remove_address(guardian: Guardian, address_id: int, *, actor: str, reason: str) -> ContactAddress:
    """Delete one of the guardian's addresses (a lost phone, a mail box closed), audited with the reason."""
    address = await ContactAddress.get_or_none(id=address_id, guardian_id=guardian.id)
    if address is None:
        raise NotFound(_("The guardian has no such address."))
    reason = _reason(reason)
    async with in_transaction():
        await audit.record(
            actor,
            "address.remove",
            target=f"address:{address.id}",
            reason=reason,
            details={"channel": address.channel.value, "guardian": guardian.id},
        )
        await address.delete()
    return address


async def replace_tag(pupil: Pupil, new_number: str, *, actor: str, reason: str) -> Tag:
    """Mark the pupil's active tags lost and give them ``new_number``."""
    reason = _reason(reason)
    number = compact_code(new_number)
    if not number:
        raise UserError(_("Enter the new tag number."))
    index = tag_index(number)
    async with in_transaction():
        lost = await Tag.filter(pupil=pupil, status=TagStatus.ACTIVE).update(
            status=TagStatus.LOST, status_changed_at=datetime.now(UTC)
        )
        try:
            tag = await Tag.create(number=number, number_index=index, pupil=pupil)
        except IntegrityError:
            raise UserError(_("That tag number is already in use.")) from None
        await audit.record(
            actor, "tag.replace", target=f"pupil:{pupil.id}", reason=reason, details={"lost": lost, "tag": tag.id}
        )
    return tag


async def guardian_of(guardian_id: int) -> Guardian:
    guardian = await Guardian.get_or_none(id=guardian_id)
    if guardian is None:
        raise NotFound(_("There is no such guardian."))
    return guardian
