# Generated from a schema diff on 2026-11-28 01:23.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class MerchantDailySales(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        day = DateField()
        orders_paid = IntegerField(default=0)
        gross_fen = BigIntegerField(default=0)
        discount_fen = BigIntegerField(default=0)
        refunds_fen = BigIntegerField(default=0)
        net_fen = BigIntegerField(default=0)
        units = IntegerField(default=0)
        computed_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'merchant_daily_sales'
            indexes = ((('merchant', 'day'), True), (('day',), False))
    db.create_tables([MerchantDailySales])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('merchant_daily_sales'))
