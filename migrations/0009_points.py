# Generated from a schema diff on 2026-11-28 00:24.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class PointsAccount(Model):
        user_id = IntegerField(primary_key=True)
        balance = IntegerField(default=0)
        lifetime_earned = IntegerField(default=0)
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'points_account'
    db.create_tables([PointsAccount])

    class PointsEntry(Model):
        user_id = IntegerField(index=True)
        kind = CharField(max_length=16)
        amount = IntegerField()
        balance_after = IntegerField()
        merchant_id = IntegerField(index=True, null=True)
        idempotency_key = CharField(unique=True, max_length=191)
        ref_type = CharField(max_length=32, default='')
        ref_id = CharField(max_length=64, default='')
        memo = CharField(default='')
        lot_remaining = IntegerField(default=0)
        expires_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'points_entry'
            indexes = ((('user_id', 'lot_remaining', 'expires_at'), False), (('expires_at', 'lot_remaining'), False))
    db.create_tables([PointsEntry])

    class PointsAllocation(Model):
        debit = ForeignKeyField(PointsEntry, on_delete='CASCADE')
        lot = ForeignKeyField(PointsEntry, on_delete='CASCADE')
        amount = IntegerField()
        funding_merchant_id = IntegerField(index=True, null=True)
        class Meta:
            database = db
            table_name = 'points_allocation'
    db.create_tables([PointsAllocation])

    class UsedMemberCode(Model):
        nonce = CharField(primary_key=True, max_length=32)
        expires_at = UTCDateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'used_member_code'
    db.create_tables([UsedMemberCode])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('used_member_code'))
    migrator.migrate(migrator.drop_table('points_allocation'))
    migrator.migrate(migrator.drop_table('points_entry'))
    migrator.migrate(migrator.drop_table('points_account'))
