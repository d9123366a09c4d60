# Generated from a schema diff on 2026-11-28 00:23.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class PaymentNotification(Model):
        channel = CharField(max_length=16)
        notification_id = CharField(null=True, max_length=128)
        kind = CharField(max_length=8)
        out_trade_no = CharField(index=True, null=True, max_length=64)
        out_refund_no = CharField(null=True, max_length=64)
        transaction_id = CharField(null=True, max_length=64)
        amount_fen = BigIntegerField(null=True)
        status = CharField(index=True, max_length=16, default='received')
        reason = CharField(null=True)
        payload = TextField(null=True)
        received_at = UTCDateTimeField()
        processed_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'payment_notification'
            indexes = ((('channel', 'notification_id'), True),)
    db.create_tables([PaymentNotification])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('payment_notification'))
