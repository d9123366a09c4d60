# Generated from a schema diff on 2026-12-07 22:05, and the orders index added by hand.
# Numbered 0031: 0030 is written beside it on another branch; this one needs nothing newer
# than 0029.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Backup(Model):
        file_name = CharField(unique=True, max_length=128)
        status = CharField(max_length=16, default='running')
        running_lock = IntegerField(unique=True, null=True)
        trigger = CharField(max_length=16)
        started_by = IntegerField(null=True)
        host = CharField(max_length=128)
        size_bytes = BigIntegerField(null=True)
        sha256 = CharField(null=True, max_length=64)
        schema_migration = CharField(null=True, max_length=128)
        row_counts = TextField(default='{}')
        rows_total = BigIntegerField(default=0)
        files = IntegerField(default=0)
        tables_done = IntegerField(default=0)
        tables_total = IntegerField(default=0)
        error = TextField(null=True)
        started_at = UTCDateTimeField()
        heartbeat_at = UTCDateTimeField()
        finished_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'backup'
            indexes = ((('status', 'id'), False),)
    db.create_tables([Backup])
    # The consumer behaviour report's covering index (alliance/orders/models.py).
    migrator.migrate(migrator.add_index('orders', ('paid_at', 'user_id', 'merchant_id', 'paid_fen')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('orders', 'orders_paid_at_user_id_merchant_id_paid_fen'))
    migrator.migrate(migrator.drop_table('backup'))
