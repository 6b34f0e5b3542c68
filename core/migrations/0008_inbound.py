from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.fields import SealedText


class Migration(migrations.Migration):
    dependencies = [("core", "0007_chat")]

    initial = False

    operations = [
        ops.CreateModel(
            name="MailReply",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("to_address", SealedText()),
                ("subject", fields.CharField(max_length=200)),
                ("text", SealedText()),
                ("in_reply_to", fields.CharField(null=True, max_length=255)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("attempts", fields.SmallIntField(default=0)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_error", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "mail_reply",
                "app": "core",
                "indexes": [Index(fields=["sent_at", "next_attempt_at"])],
                "pk_attr": "id",
                "table_description": "An answer to an incoming mail, written with the handling of that mail and sent after.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MailboxState",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("mailbox", fields.CharField(unique=True, max_length=255)),
                ("uidvalidity", fields.BigIntField()),
                ("last_uid", fields.BigIntField(default=0)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "mailbox_state",
                "app": "core",
                "pk_attr": "id",
                "table_description": "How far the inbound mailbox has been read: the last UID handled under one UIDVALIDITY.",
            },
            bases=["Model"],
        ),
    ]
