"""Deliveries by guardian: every answer asks whether its broadcast was sent to the guardian, and
the portal's home page lists the broadcasts sent to one. Without this index both read every
delivery of the broadcast (or of the outbox): an answer cost time in proportion to the city."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0021_webpush_channel")]

    initial = False

    operations = [ops.AddIndex(model_name="Delivery", index=Index(fields=["guardian_id", "broadcast_id"]))]
