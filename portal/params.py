"""Bounded request parameters: every path, query and form value a route takes has one of these
types, so a value no column could hold (an over-long login ID, an id past the integer column, a day
before the calendar's start) is refused at the edge and never reaches a query. The bounds are read
from the model fields, so each number lives in one place.

A value that fails is FastAPI's ``RequestValidationError``: 404 for a path, 400 for the rest
(``portal.app``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from tortoise.models import Model

from core.login import AccountKind, normalise_login
from core.models import (
    AuditEntry,
    Broadcast,
    ContactAddress,
    Delivery,
    Gate,
    Guardian,
    Photo,
    Pupil,
    QuestionTemplate,
    Site,
    StaffAccount,
)

FIRST_DAY = date(2000, 1, 1)  # no passage or audit entry is older; a day before it is a typo or a probe
LAST_DAY = date(2099, 12, 31)


def _field(model: type[Model], name: str) -> Any:
    return model._meta.fields_map[name]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("no NUL characters")  # PostgreSQL text cannot hold one: the query would fail
    return value


def text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_no_nul)]


def column_text(model: type[Model], name: str) -> Any:
    """A string the column ``model.name`` can hold."""
    return text(_field(model, name).max_length)


def row_id(model: type[Model]) -> Any:
    """A primary key as its column holds it (an IntField ends at 2^31-1 on PostgreSQL)."""
    return Annotated[int, Field(ge=1, le=_field(model, "id").constraints["le"])]


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value  # an HTML form sends an unchosen field as empty


def optional(kind: Any) -> Any:
    """``kind``, or None when absent or sent empty."""
    return Annotated[kind | None, BeforeValidator(_blank_is_none)]


def _normalised_fits(max_length: int, normalise: Callable[[str], str]) -> AfterValidator:
    def check(value: str) -> str:
        if len(normalise(value)) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return value

    return AfterValidator(check)


def _login_id(kind: AccountKind, model: type[Model]) -> Any:
    """A login ID as typed; what must fit the column is its normal form (NFKC can lengthen it)."""
    column = _field(model, "login_id").max_length
    return Annotated[text(4 * column), _normalised_fits(column, lambda value: normalise_login(kind, value))]


def _in_calendar(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a day from {FIRST_DAY} to {LAST_DAY}")
    return day


GuardianLoginId = _login_id(AccountKind.GUARDIAN, Guardian)
StaffLoginId = _login_id(AccountKind.STAFF, StaffAccount)
AckToken = column_text(Delivery, "ack_token")
PhotoToken = column_text(Photo, "token")
ChatPhotoToken = text(512)  # signed, not looked up by column: bounded only to keep its check cheap
UnsubscribeToken = text(64)  # an address id and a keyed tag (core.unsubscribe), not looked up by column
SiteName = column_text(Site, "name")
GateName = column_text(Gate, "name")
ClassName = column_text(Pupil, "class_name")
Grade = optional(Annotated[int, Field(ge=0, le=_field(Pupil, "grade").constraints["le"])])
AuditAction = column_text(AuditEntry, "action")
AuditActor = column_text(AuditEntry, "actor")
AuditTarget = column_text(AuditEntry, "target")
Day = optional(Annotated[date, AfterValidator(_in_calendar)])
Count = Annotated[int, Field(ge=0, le=10**9)]

Word = text(100)  # a choice from a list (role, kind, category, language), a code, a time of day
PagePath = text(2000)  # a ``next`` target within the site
FreeText = text(8000)  # a reason, a broadcast's body (core says what fits), a password, a mail address

GuardianId = row_id(Guardian)
StaffId = row_id(StaffAccount)
SiteId = row_id(Site)
ChosenSite = optional(SiteId)  # a site picked from a list that may be left at "—"
GateId = row_id(Gate)
PupilId = row_id(Pupil)
BroadcastId = row_id(Broadcast)
AddressId = row_id(ContactAddress)
AuditEntryId = row_id(AuditEntry)
QuestionTemplateId = row_id(QuestionTemplate)
