# Generated from a schema diff on 2026-11-28 00:48.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class CatalogItem(Model):
        class Meta:
            database = db
            table_name = 'catalog_item'

    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Order(Model):
        order_no = CharField(unique=True, max_length=32)
        user = ForeignKeyField(User, on_delete='RESTRICT')
        merchant = ForeignKeyField(Merchant, on_delete='RESTRICT')
        kind = CharField(max_length=8)
        status = CharField(max_length=16, default='pending_payment')
        resume_status = CharField(null=True, max_length=16)
        items_fen = BigIntegerField()
        shipping_fen = IntegerField(default=0)
        level_discount_fen = IntegerField(default=0)
        coupon_discount_fen = IntegerField(default=0)
        points_used = IntegerField(default=0)
        points_discount_fen = IntegerField(default=0)
        total_fen = BigIntegerField()
        discount_fen = BigIntegerField(default=0)
        payable_fen = BigIntegerField()
        paid_fen = BigIntegerField(default=0)
        refunded_fen = BigIntegerField(default=0)
        coupon_ids = CharField(max_length=64, default='[]')
        earn_points = IntegerField(default=0)
        points_clawed_back = IntegerField(default=0)
        contact_name = CharField(max_length=32, default='')
        contact_phone = CharField(max_length=20, default='')
        address = CharField(default='')
        note = CharField(max_length=200, default='')
        expires_at = UTCDateTimeField()
        paid_attempt_id = IntegerField(null=True)
        paid_channel = CharField(null=True, max_length=16)
        transaction_id = CharField(null=True, max_length=64)
        paid_at = UTCDateTimeField(null=True)
        confirmed_at = UTCDateTimeField(null=True)
        shipped_at = UTCDateTimeField(null=True)
        carrier = CharField(max_length=32, default='')
        tracking_no = CharField(max_length=64, default='')
        completed_at = UTCDateTimeField(null=True)
        cancelled_at = UTCDateTimeField(null=True)
        cancel_reason = CharField(max_length=64, default='')
        abnormal = BooleanField(default=False)
        abnormal_reason = CharField(max_length=64, default='')
        abnormal_at = UTCDateTimeField(null=True)
        open_after_sale_id = IntegerField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'orders'
            indexes = ((('user', 'status', 'id'), False), (('merchant', 'status', 'id'), False), (('merchant', 'paid_at'), False), (('status', 'expires_at'), False), (('abnormal', 'id'), False), (('paid_at',), False), (('created_at',), False))
    db.create_tables([Order])

    class AfterSale(Model):
        order = ForeignKeyField(Order, on_delete='CASCADE')
        user_id = IntegerField(index=True)
        merchant_id = IntegerField()
        kind = CharField(max_length=16)
        status = CharField(max_length=16, default='requested')
        amount_fen = BigIntegerField()
        reason = CharField()
        photos = TextField(default='[]')
        lines = TextField(default='{}')
        return_carrier = CharField(max_length=32, default='')
        return_tracking_no = CharField(max_length=64, default='')
        merchant_note = CharField(default='')
        decided_by = IntegerField(null=True)
        decided_at = UTCDateTimeField(null=True)
        arbitration_reason = CharField(default='')
        arbitration_note = CharField(default='')
        arbitrated_by = IntegerField(null=True)
        arbitrated_at = UTCDateTimeField(null=True)
        refund_id = IntegerField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'after_sale'
            indexes = ((('merchant_id', 'status', 'id'), False), (('status', 'id'), False))
    db.create_tables([AfterSale])

    class CartItem(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        item = ForeignKeyField(CatalogItem, on_delete='CASCADE')
        quantity = IntegerField()
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'cart_item'
            indexes = ((('user', 'item'), True),)
    db.create_tables([CartItem])

    class Complaint(Model):
        user_id = IntegerField(index=True)
        merchant_id = IntegerField()
        order_id = IntegerField(null=True)
        category = CharField(max_length=32)
        content = TextField()
        photos = TextField(default='[]')
        status = CharField(max_length=16, default='open')
        resolution = CharField(max_length=500, default='')
        operator_id = IntegerField(null=True)
        created_at = UTCDateTimeField()
        resolved_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'complaint'
            indexes = ((('status', 'id'), False), (('merchant_id', 'id'), False))
    db.create_tables([Complaint])

    class OrderLine(Model):
        order = ForeignKeyField(Order, on_delete='CASCADE')
        item_id = IntegerField(index=True)
        kind = CharField(max_length=8)
        name = CharField(max_length=64)
        unit_price_fen = IntegerField()
        quantity = IntegerField()
        amount_fen = BigIntegerField()
        discount_fen = BigIntegerField(default=0)
        payable_fen = BigIntegerField()
        returned_quantity = IntegerField(default=0)
        reviewed = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'order_line'
    db.create_tables([OrderLine])

    class PaymentAttempt(Model):
        order = ForeignKeyField(Order, on_delete='CASCADE')
        seq = IntegerField()
        channel = CharField(max_length=16)
        out_trade_no = CharField(unique=True, max_length=32)
        amount_fen = BigIntegerField()
        status = CharField(max_length=16, default='open')
        provider_ref = CharField(max_length=64, default='')
        transaction_id = CharField(null=True, max_length=64)
        note = CharField(default='')
        created_at = UTCDateTimeField()
        paid_at = UTCDateTimeField(null=True)
        closed_at = UTCDateTimeField(null=True)
        checked_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'payment_attempt'
            indexes = ((('order', 'seq'), True), (('status', 'created_at'), False))
    db.create_tables([PaymentAttempt])

    class Refund(Model):
        order = ForeignKeyField(Order, on_delete='CASCADE')
        attempt = ForeignKeyField(PaymentAttempt, on_delete='CASCADE')
        seq = IntegerField()
        out_refund_no = CharField(unique=True, max_length=64)
        kind = CharField(max_length=16)
        after_sale_id = IntegerField(null=True)
        amount_fen = BigIntegerField()
        reason = CharField(default='')
        restock = TextField(default='{}')
        status = CharField(max_length=16, default='pending')
        refund_id = CharField(max_length=64, default='')
        provider_status = CharField(max_length=32, default='')
        last_error = CharField(default='')
        created_at = UTCDateTimeField()
        submitted_at = UTCDateTimeField(null=True)
        finished_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'refund'
            indexes = ((('order', 'seq'), True), (('status', 'created_at'), False))
    db.create_tables([Refund])

    class Review(Model):
        order = ForeignKeyField(Order, on_delete='CASCADE')
        line = ForeignKeyField(OrderLine, unique=True, on_delete='CASCADE')
        user_id = IntegerField()
        merchant_id = IntegerField()
        item_id = IntegerField()
        rating = IntegerField()
        content = TextField(default='')
        photos = TextField(default='[]')
        reply = TextField(default='')
        replied_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'review'
            indexes = ((('merchant_id', 'id'), False), (('item_id', 'id'), False))
    db.create_tables([Review])

    class ServiceCode(Model):
        order = ForeignKeyField(Order, unique=True, on_delete='CASCADE')
        code = CharField(unique=True, max_length=20)
        merchant_id = IntegerField(index=True)
        user_id = IntegerField()
        status = CharField(max_length=16, default='active')
        valid_until = UTCDateTimeField()
        redeemed_at = UTCDateTimeField(null=True)
        redeemed_by = IntegerField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'service_code'
    db.create_tables([ServiceCode])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('service_code'))
    migrator.migrate(migrator.drop_table('review'))
    migrator.migrate(migrator.drop_table('refund'))
    migrator.migrate(migrator.drop_table('payment_attempt'))
    migrator.migrate(migrator.drop_table('order_line'))
    migrator.migrate(migrator.drop_table('complaint'))
    migrator.migrate(migrator.drop_table('cart_item'))
    migrator.migrate(migrator.drop_table('after_sale'))
    migrator.migrate(migrator.drop_table('orders'))
