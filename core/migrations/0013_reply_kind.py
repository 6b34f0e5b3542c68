"""Deliveries of kind ``reply``: a bot's answer queued when the chat API was away.

Only the field's description (its list of values) changes, and no database checks the values:
the column is left alone, so SQLite does not rebuild the outbox table (and lose its indexes, see 0009).
"""

from tortoise import migrations

from core.migrations._notice_kinds import kinds_described


class Migration(migrations.Migration):
    dependencies = [("core", "0012_sealed_roster_ref")]

    initial = False

    operations = [
        kinds_described(
            "PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff\n"
            "ADDRESS_INACTIVE: address_inactive\nREPLY: reply"
        ),
    ]
