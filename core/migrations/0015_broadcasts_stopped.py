"""A guardian may stop broadcasts to one address (a broadcast's unsubscribe link): when, on the
address; and the notice that tells their other address, a kind of delivery.

The new column is nullable, so SQLite adds it in place. As in 0013, only the kind's description
changes on ``delivery``.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.migrations._notice_kinds import kinds_described


class Migration(migrations.Migration):
    dependencies = [("core", "0014_mail_answer_kind")]

    initial = False

    operations = [
        ops.AddField(
            model_name="ContactAddress",
            name="broadcasts_stopped_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        kinds_described(
            "PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff\n"
            "ADDRESS_INACTIVE: address_inactive\nREPLY: reply\nMAIL_ANSWER: mail_answer\n"
            "BROADCASTS_STOPPED: broadcasts_stopped"
        ),
    ]
