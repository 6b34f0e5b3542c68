from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from core.fields import LocalTimeField, SealedText
from core.models.enums import Language, TagStatus
from core.models.sites import Site

if TYPE_CHECKING:
    from core.models.addresses import ContactAddress


class Pupil(Model):
    id = fields.IntField(primary_key=True)
    school: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "core.Site", related_name="pupils", on_delete=fields.RESTRICT
    )
    school_id: int
    grade = fields.SmallIntField()
    class_name = fields.CharField(max_length=20)
    name = SealedText()
    name_index = fields.CharField(max_length=64, db_index=True)
    roster_key = fields.CharField(max_length=64, unique=True)  # blind index of school + identity
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    guardians: fields.ManyToManyRelation["Guardian"]
    tags: fields.ReverseRelation["Tag"]

    class Meta:
        table = "pupil"


class Tag(Model):
    """An IC tag holding only its number, which maps to a pupil only here."""

    id = fields.IntField(primary_key=True)
    number = SealedText()
    number_index = fields.CharField(max_length=64, unique=True)
    pupil: fields.ForeignKeyNullableRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="tags", null=True, on_delete=fields.SET_NULL
    )
    pupil_id: int | None
    status = fields.CharEnumField(TagStatus, max_length=10, default=TagStatus.ACTIVE)
    status_changed_at = fields.DatetimeField(auto_now_add=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tag"


class Guardian(Model):
    id = fields.IntField(primary_key=True)
    login_id = fields.CharField(max_length=16, unique=True)
    roster_ref = SealedText(null=True)  # the roster's guardian_ref, as the school wrote it
    roster_ref_index = fields.CharField(max_length=64, unique=True, null=True)  # core.roster.guardian_key
    name = SealedText()
    name_index = fields.CharField(max_length=64, db_index=True)
    password_hash = fields.CharField(max_length=255)
    must_change_password = fields.BooleanField(default=True)
    password_changed_at = fields.DatetimeField(null=True)
    failed_logins = fields.IntField(default=0)
    throttled_until = fields.DatetimeField(null=True)
    language = fields.CharEnumField(Language, max_length=10, default=Language.JA)
    wants_passages = fields.BooleanField(default=True)  # the IC-tag service
    wants_broadcasts = fields.BooleanField(default=True)
    passages_paused = fields.BooleanField(default=False)
    wants_attendance_alerts = fields.BooleanField(default=True)  # "not seen yet" notices
    quiet_start = LocalTimeField(null=True)
    quiet_end = LocalTimeField(null=True)
    photos_in_chat = fields.BooleanField(default=False)
    registration_code_index = fields.CharField(max_length=64, unique=True, null=True)
    registration_code_used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    pupils: fields.ManyToManyRelation[Pupil] = fields.ManyToManyField(
        "core.Pupil", related_name="guardians", through="guardian_pupil"
    )
    addresses: fields.ReverseRelation["ContactAddress"]

    class Meta:
        table = "guardian"
