# Generated from a schema diff on 2026-12-07 15:44.
from peewee import *
from alliance.db import UTCDateTimeField

def up(migrator, db):
    class Order(Model):
        class Meta:
            database = db
            table_name = 'orders'

    class OrderDiscount(Model):
        order = ForeignKeyField(Order, on_delete='CASCADE')
        kind = CharField(max_length=8)
        coupon_id = IntegerField(null=True)
        funder_merchant_id = IntegerField(null=True)
        points = IntegerField(default=0)
        amount_fen = BigIntegerField()
        given_back_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'order_discount'
            indexes = ((('given_back_at',), False),)
    db.create_tables([OrderDiscount])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('order_discount'))
