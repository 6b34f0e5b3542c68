from tortoise import fields
from tortoise.models import Model

from core.fields import SealedBytes, SealedText
from core.models.enums import Direction, PassageOutcome
from core.models.people import Guardian, Pupil, Tag
from core.models.sites import Gate, Site
from core.models.staff import StaffAccount


class Passage(Model):
    """One pass of a tag through a gate, as the gate reported it (``event_id`` is the gate's)."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.UUIDField(unique=True)
    gate: fields.ForeignKeyRelation[Gate] = fields.ForeignKeyField(
        "core.Gate", related_name="passages", on_delete=fields.RESTRICT
    )
    gate_id: int
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "core.Site", related_name="passages", on_delete=fields.RESTRICT
    )
    site_id: int
    tag: fields.ForeignKeyNullableRelation[Tag] = fields.ForeignKeyField(
        "core.Tag", related_name="passages", null=True, on_delete=fields.SET_NULL
    )
    tag_id: int | None
    pupil: fields.ForeignKeyNullableRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="passages", null=True, on_delete=fields.SET_NULL
    )
    pupil_id: int | None
    tag_number = SealedText()
    tag_number_index = fields.CharField(max_length=64, db_index=True)
    seen_at = fields.DatetimeField()
    received_at = fields.DatetimeField(auto_now_add=True)
    direction = fields.CharEnumField(Direction, max_length=10, null=True)
    outcome = fields.CharEnumField(PassageOutcome, max_length=12)
    reader = fields.CharField(max_length=100, null=True)
    photo_missing = fields.CharField(max_length=300, null=True)  # the gate's reason for no still

    class Meta:
        table = "passage"
        indexes = (("pupil_id", "site_id", "seen_at"), ("site_id", "seen_at"))


class Photo(Model):
    """The still of a passage, sealed, linked from notices by an opaque token."""

    id = fields.BigIntField(primary_key=True)
    passage: fields.OneToOneRelation[Passage] = fields.OneToOneField(
        "core.Passage", related_name="photo", on_delete=fields.CASCADE
    )
    passage_id: int
    token = fields.CharField(max_length=64, unique=True)
    jpeg: bytes = SealedBytes()  # typed by hand: SealedBytes reads as Any
    size = fields.IntField()
    taken_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "photo"


class PhotoView(Model):
    """Who opened a photo and when, which guardians can see this for their own children."""

    id = fields.BigIntField(primary_key=True)
    photo: fields.ForeignKeyRelation[Photo] = fields.ForeignKeyField(
        "core.Photo", related_name="views", on_delete=fields.CASCADE
    )
    photo_id: int
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="photo_views", null=True, on_delete=fields.SET_NULL
    )
    guardian_id: int | None
    staff: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="photo_views", null=True, on_delete=fields.SET_NULL
    )
    staff_id: int | None
    viewed_at = fields.DatetimeField(auto_now_add=True)
    # set when a chat service fetched the still for the guardian's chat ("line"), not a person
    via = fields.CharField(max_length=10, null=True)

    class Meta:
        table = "photo_view"
