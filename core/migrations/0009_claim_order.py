from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0008_inbound')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Delivery',
            name=None,
            fields=['status', 'priority', 'next_attempt_at'],
        ),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['status', 'priority', 'next_attempt_at', 'id']),
        ),
    ]
