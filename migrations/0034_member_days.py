# Generated from a schema diff on 2026-12-07 22:37.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class MerchantMemberDay(Model):
        merchant = ForeignKeyField(Merchant, unique=True, on_delete='CASCADE')
        enabled = BooleanField(default=True)
        weekdays = IntegerField(default=0)
        month_days = BigIntegerField(default=0)
        min_level = IntegerField(default=0)
        points_multiplier_pct = IntegerField(default=100)
        discount_percent = IntegerField(default=0)
        starts_on = DateField(null=True)
        ends_on = DateField(null=True)
        updated_by = IntegerField(null=True)
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'merchant_member_day'
    db.create_tables([MerchantMemberDay])

    migrator.migrate(migrator.add_column('orders', 'member_day_discount_fen', IntegerField(default=0)))
    migrator.migrate(migrator.add_column('orders', 'member_day_points_pct', IntegerField(default=100)))
    migrator.migrate(migrator.add_column('points_award', 'member_day_multiplier_pct', IntegerField(default=100)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('points_award', 'member_day_multiplier_pct'))
    migrator.migrate(migrator.drop_column('orders', 'member_day_points_pct'))
    migrator.migrate(migrator.drop_column('orders', 'member_day_discount_fen'))
    migrator.migrate(migrator.drop_table('merchant_member_day'))
