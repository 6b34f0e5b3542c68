import datetime
import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.fields import LocalTimeField, SealedBytes, SealedText
from core.models.enums import (
    AddressStatus,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    DeliveryStatus,
    Direction,
    Language,
    NoticeKind,
    PassageOutcome,
    SiteKind,
    StaffRole,
    TagStatus,
)


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("actor", fields.CharField(max_length=80)),
                ("action", fields.CharField(db_index=True, max_length=60)),
                ("target", fields.CharField(null=True, max_length=120)),
                ("reason", fields.TextField(null=True, unique=False)),
                (
                    "details",
                    fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("prev_hash", fields.CharField(max_length=64)),
                ("hash", fields.CharField(unique=True, max_length=64)),
            ],
            options={
                "table": "audit_entry",
                "app": "core",
                "pk_attr": "id",
                "table_description": "Append-only and hash-chained, each entry's hash covers its fields and the previous hash.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Site",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=100)),
                (
                    "kind",
                    fields.CharEnumField(description="SCHOOL: school\nHALL: hall", enum_type=SiteKind, max_length=10),
                ),
                ("has_camera", fields.BooleanField(default=True)),
                ("timezone", fields.CharField(default="Asia/Tokyo", max_length=40)),
                ("cutoff", LocalTimeField(default=datetime.time.fromisoformat("12:00:00"))),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "site",
                "app": "core",
                "pk_attr": "id",
                "table_description": "A school (with a camera at its gate) or a children's hall (no camera).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Gate",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "site",
                    fields.ForeignKeyField(
                        "core.Site",
                        source_field="site_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="gates",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("key_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_heartbeat_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "health",
                    fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("down_since", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "gate",
                "app": "core",
                "unique_together": (("site", "name"),),
                "pk_attr": "id",
                "table_description": "A tag reader (and camera, at schools) at one site's entrance, authenticating by key.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Pupil",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "school",
                    fields.ForeignKeyField(
                        "core.Site",
                        source_field="school_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="pupils",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("grade", fields.SmallIntField()),
                ("class_name", fields.CharField(max_length=20)),
                ("name", SealedText()),
                ("name_index", fields.CharField(db_index=True, max_length=64)),
                ("roster_key", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "pupil", "app": "core", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Guardian",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("login_id", fields.CharField(unique=True, max_length=16)),
                ("roster_ref", fields.CharField(null=True, unique=True, max_length=64)),
                ("name", SealedText()),
                ("name_index", fields.CharField(db_index=True, max_length=64)),
                ("password_hash", fields.CharField(max_length=255)),
                ("must_change_password", fields.BooleanField(default=True)),
                ("password_changed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("failed_logins", fields.IntField(default=0)),
                ("throttled_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "language",
                    fields.CharEnumField(
                        default=Language.JA, description="JA: ja\nEN: en", enum_type=Language, max_length=2
                    ),
                ),
                ("wants_passages", fields.BooleanField(default=True)),
                ("wants_broadcasts", fields.BooleanField(default=True)),
                ("passages_paused", fields.BooleanField(default=False)),
                ("quiet_start", LocalTimeField(null=True)),
                ("quiet_end", LocalTimeField(null=True)),
                ("photos_in_chat", fields.BooleanField(default=False)),
                ("registration_code_index", fields.CharField(null=True, unique=True, max_length=64)),
                ("registration_code_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "pupils",
                    fields.ManyToManyField(
                        "core.Pupil",
                        unique=True,
                        db_constraint=True,
                        through="guardian_pupil",
                        forward_key="pupil_id",
                        backward_key="guardian_id",
                        related_name="guardians",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={"table": "guardian", "app": "core", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ContactAddress",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="addresses",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        description="EMAIL: email\nTELEGRAM: telegram\nLINE: line", enum_type=Channel, max_length=10
                    ),
                ),
                ("value", SealedText()),
                ("value_index", fields.CharField(db_index=True, max_length=64)),
                ("slot", fields.SmallIntField(null=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=AddressStatus.PENDING,
                        description="PENDING: pending\nACTIVE: active\nFAILING: failing\nINACTIVE: inactive",
                        enum_type=AddressStatus,
                        max_length=10,
                    ),
                ),
                ("verified_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("verification_code_index", fields.CharField(null=True, unique=True, max_length=64)),
                ("failure_count", fields.IntField(default=0)),
                ("last_failure", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "contact_address",
                "app": "core",
                "unique_together": (("guardian", "slot"), ("guardian", "channel", "value_index")),
                "pk_attr": "id",
                "table_description": "One of a guardian's addresses. A verified one holds a slot (1..limit), see core.addresses.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffAccount",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("login_id", fields.CharField(unique=True, max_length=64)),
                (
                    "role",
                    fields.CharEnumField(
                        description="ADMIN: admin\nSTAFF: staff\nSUPPORT: support", enum_type=StaffRole, max_length=10
                    ),
                ),
                ("display_name", SealedText(null=True)),
                ("password_hash", fields.CharField(max_length=255)),
                ("must_change_password", fields.BooleanField(default=True)),
                ("password_changed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("failed_logins", fields.IntField(default=0)),
                ("throttled_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("totp_secret", SealedText(null=True)),
                ("totp_enrolled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("totp_last_step", fields.BigIntField(null=True)),
                (
                    "language",
                    fields.CharEnumField(
                        default=Language.JA, description="JA: ja\nEN: en", enum_type=Language, max_length=2
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("disabled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "sites",
                    fields.ManyToManyField(
                        "core.Site",
                        unique=True,
                        db_constraint=True,
                        through="staff_site",
                        forward_key="site_id",
                        backward_key="staff_account_id",
                        related_name="staff",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "staff_account",
                "app": "core",
                "pk_attr": "id",
                "table_description": "School or board staff, the support desk, or an administrator (all need a second factor).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Broadcast",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "author",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="author_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="broadcasts",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("scope", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
                (
                    "category",
                    fields.CharEnumField(
                        description="SUSPICIOUS_PERSON: suspicious_person\nCLOSURE: closure\nDISASTER: disaster\nGENERAL: general",
                        enum_type=BroadcastCategory,
                        max_length=20,
                    ),
                ),
                ("title", fields.CharField(max_length=200)),
                ("body", fields.TextField(unique=False)),
                ("ack_requested", fields.BooleanField(default=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=BroadcastStatus.DRAFT,
                        description="DRAFT: draft\nCONFIRMED: confirmed\nFANNED_OUT: fanned_out\nCANCELLED: cancelled",
                        enum_type=BroadcastStatus,
                        max_length=12,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("confirmed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "confirmed_by",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="confirmed_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="confirmed_broadcasts",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("fanout_cursor", fields.IntField(default=0)),
                ("fanned_out_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "broadcast",
                "app": "core",
                "pk_attr": "id",
                "table_description": "An alert to every guardian in scope, a draft until explicitly confirmed.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BroadcastAck",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "broadcast",
                    fields.ForeignKeyField(
                        "core.Broadcast",
                        source_field="broadcast_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="acks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="broadcast_acks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("acknowledged_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("channel", fields.CharField(null=True, max_length=10)),
            ],
            options={
                "table": "broadcast_ack",
                "app": "core",
                "unique_together": (("broadcast", "guardian"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffAddress",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="staff_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="addresses",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        description="EMAIL: email\nTELEGRAM: telegram\nLINE: line", enum_type=Channel, max_length=10
                    ),
                ),
                ("value", SealedText()),
                ("value_index", fields.CharField(max_length=64)),
                ("verified_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "staff_address",
                "app": "core",
                "unique_together": (("channel", "value_index"),),
                "pk_attr": "id",
                "table_description": "A staff member's own mail address or chat, for alerts sent by mail or bot.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Tag",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("number", SealedText()),
                ("number_index", fields.CharField(unique=True, max_length=64)),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="tags",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=TagStatus.ACTIVE,
                        description="ACTIVE: active\nLOST: lost\nRETIRED: retired",
                        enum_type=TagStatus,
                        max_length=10,
                    ),
                ),
                ("status_changed_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "tag",
                "app": "core",
                "pk_attr": "id",
                "table_description": "An IC tag holding only its number, which maps to a pupil only here.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Passage",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("event_id", fields.UUIDField(unique=True)),
                (
                    "gate",
                    fields.ForeignKeyField(
                        "core.Gate",
                        source_field="gate_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="passages",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "site",
                    fields.ForeignKeyField(
                        "core.Site",
                        source_field="site_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="passages",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "tag",
                    fields.ForeignKeyField(
                        "core.Tag",
                        source_field="tag_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="passages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="passages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("tag_number", SealedText()),
                ("tag_number_index", fields.CharField(db_index=True, max_length=64)),
                ("seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "direction",
                    fields.CharEnumField(
                        null=True,
                        description="ARRIVAL: arrival\nDEPARTURE: departure\nPASSAGE: passage",
                        enum_type=Direction,
                        max_length=10,
                    ),
                ),
                (
                    "outcome",
                    fields.CharEnumField(
                        description="NOTIFIED: notified\nREPEAT: repeat\nUNKNOWN_TAG: unknown_tag\nLOST_TAG: lost_tag\nRETIRED_TAG: retired_tag",
                        enum_type=PassageOutcome,
                        max_length=12,
                    ),
                ),
                ("reader", fields.CharField(null=True, max_length=100)),
            ],
            options={
                "table": "passage",
                "app": "core",
                "indexes": [Index(fields=["pupil_id", "site_id", "seen_at"]), Index(fields=["site_id", "seen_at"])],
                "pk_attr": "id",
                "table_description": "One pass of a tag through a gate, as the gate reported it (``event_id`` is the gate's).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Delivery",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("idempotency_key", fields.CharField(unique=True, max_length=100)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff",
                        enum_type=NoticeKind,
                        max_length=12,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        description="EMAIL: email\nTELEGRAM: telegram\nLINE: line", enum_type=Channel, max_length=10
                    ),
                ),
                ("priority", fields.SmallIntField(default=1)),
                (
                    "address",
                    fields.ForeignKeyField(
                        "core.ContactAddress",
                        source_field="address_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "staff_address",
                    fields.ForeignKeyField(
                        "core.StaffAddress",
                        source_field="staff_address_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "passage",
                    fields.ForeignKeyField(
                        "core.Passage",
                        source_field="passage_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "broadcast",
                    fields.ForeignKeyField(
                        "core.Broadcast",
                        source_field="broadcast_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("payload", SealedText(null=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=DeliveryStatus.QUEUED,
                        description="QUEUED: queued\nSENDING: sending\nSENT: sent\nFAILED: failed\nEXPIRED: expired",
                        enum_type=DeliveryStatus,
                        max_length=10,
                    ),
                ),
                ("attempts", fields.SmallIntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("lease_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("provider_message_id", fields.CharField(null=True, max_length=255)),
                ("queued_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("first_tried_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ack_token", fields.CharField(null=True, unique=True, max_length=64)),
            ],
            options={
                "table": "delivery",
                "app": "core",
                "indexes": [
                    Index(fields=["status", "priority", "next_attempt_at"]),
                    Index(fields=["broadcast_id", "status"]),
                ],
                "pk_attr": "id",
                "table_description": "The outbox, one notice to one address, written with the fact that caused it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Photo",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "passage",
                    fields.OneToOneField(
                        "core.Passage",
                        source_field="passage_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="photo",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("token", fields.CharField(unique=True, max_length=64)),
                ("jpeg", SealedBytes()),
                ("size", fields.IntField()),
                ("taken_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "photo",
                "app": "core",
                "pk_attr": "id",
                "table_description": "The still of a passage, sealed, linked from notices by an opaque token.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PhotoView",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "photo",
                    fields.ForeignKeyField(
                        "core.Photo",
                        source_field="photo_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="views",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="photo_views",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="staff_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="photo_views",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("viewed_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "photo_view",
                "app": "core",
                "pk_attr": "id",
                "table_description": "Who opened a photo and when, which guardians can see this for their own children.",
            },
            bases=["Model"],
        ),
    ]
