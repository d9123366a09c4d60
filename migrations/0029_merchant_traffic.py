# Generated from a schema diff on 2026-12-07 19:45.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class MerchantDailyTraffic(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        day = DateField()
        views = BigIntegerField(default=0)
        signed_in_views = BigIntegerField(default=0)
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'merchant_daily_traffic'
            indexes = ((('merchant', 'day'), True), (('day',), False))
    db.create_tables([MerchantDailyTraffic])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('merchant_daily_traffic'))
