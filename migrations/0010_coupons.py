# Generated from a schema diff on 2026-11-28 00:42.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class CommissionEntry(Model):
        payer_merchant_id = IntegerField()
        payee_merchant_id = IntegerField()
        amount_fen = IntegerField()
        source_type = CharField(max_length=16)
        source_id = CharField(max_length=64)
        reason = CharField(max_length=32)
        status = CharField(max_length=16, default='pending')
        created_at = UTCDateTimeField()
        cancelled_at = UTCDateTimeField(null=True)
        settled_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'commission_entry'
            indexes = ((('source_type', 'source_id'), True), (('payee_merchant_id', 'status', 'created_at'), False), (('payer_merchant_id', 'status', 'created_at'), False))
    db.create_tables([CommissionEntry])

    class CouponTemplate(Model):
        merchant = ForeignKeyField(Merchant, null=True, on_delete='RESTRICT')
        name = CharField(max_length=64)
        description = CharField(max_length=500, default='')
        kind = CharField(max_length=16)
        threshold_fen = IntegerField(default=0)
        discount_fen = IntegerField(default=0)
        percent_off = IntegerField(default=0)
        max_discount_fen = IntegerField(default=0)
        item_id = IntegerField(null=True)
        scope = CharField(max_length=16, default='merchant')
        scope_item_ids = TextField(default='[]')
        valid_from = UTCDateTimeField(null=True)
        valid_until = UTCDateTimeField(null=True)
        valid_days = IntegerField(null=True)
        claim_starts_at = UTCDateTimeField()
        claim_ends_at = UTCDateTimeField(null=True)
        total_stock = IntegerField()
        issued = IntegerField(default=0)
        per_user_limit = IntegerField(default=1)
        channels = CharField(max_length=64)
        points_cost = IntegerField(default=0)
        status = CharField(max_length=16, default='active')
        created_by_kind = CharField(max_length=16)
        created_by = IntegerField()
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'coupon_template'
            indexes = ((('merchant', 'status', 'id'), False), (('status', 'id'), False))
    db.create_tables([CouponTemplate])

    class CouponDistribution(Model):
        template = ForeignKeyField(CouponTemplate, on_delete='CASCADE')
        distributor = ForeignKeyField(Merchant, on_delete='CASCADE')
        commission_fen = IntegerField(default=0)
        cooperation_id = IntegerField(null=True)
        status = CharField(max_length=16, default='active')
        created_by = IntegerField()
        created_at = UTCDateTimeField()
        ended_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'coupon_distribution'
            indexes = ((('template', 'distributor'), True), (('distributor', 'status'), False))
    db.create_tables([CouponDistribution])

    class Coupon(Model):
        template = ForeignKeyField(CouponTemplate, on_delete='RESTRICT')
        user_id = IntegerField()
        seq = IntegerField()
        code = CharField(unique=True, max_length=16)
        status = CharField(max_length=16, default='active')
        valid_from = UTCDateTimeField()
        valid_until = UTCDateTimeField()
        channel = CharField(max_length=16)
        distribution = ForeignKeyField(CouponDistribution, null=True, on_delete='SET NULL')
        distributor_merchant_id = IntegerField(index=True, null=True)
        referrer_user_id = IntegerField(index=True, null=True)
        scene = CharField(max_length=64, default='')
        order_ref = CharField(index=True, null=True, max_length=64)
        claimed_at = UTCDateTimeField()
        used_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'coupon'
            indexes = ((('template', 'user_id', 'seq'), True), (('user_id', 'status', 'valid_until'), False), (('status', 'valid_until'), False))
    db.create_tables([Coupon])

    class MerchantLevelRule(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        level = IntegerField()
        name = CharField(max_length=32)
        min_spent_fen = BigIntegerField()
        discount_percent = IntegerField(default=0)
        points_multiplier_pct = IntegerField(default=100)
        class Meta:
            database = db
            table_name = 'merchant_level_rule'
            indexes = ((('merchant', 'level'), True),)
    db.create_tables([MerchantLevelRule])

    class MerchantMember(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        user_id = IntegerField(index=True)
        level = IntegerField(default=0)
        total_spent_fen = BigIntegerField(default=0)
        visits = IntegerField(default=0)
        points_earned = IntegerField(default=0)
        joined_at = UTCDateTimeField()
        last_visit_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'merchant_member'
            indexes = ((('merchant', 'user_id'), True), (('merchant', 'last_visit_at'), False))
    db.create_tables([MerchantMember])

    class PointsAward(Model):
        merchant = ForeignKeyField(Merchant, on_delete='RESTRICT')
        shop_id = IntegerField(null=True)
        staff_user_id = IntegerField()
        user_id = IntegerField(index=True)
        amount_fen = IntegerField()
        multiplier_pct = IntegerField()
        points = IntegerField()
        receipt_no = CharField(null=True, max_length=64)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'points_award'
            indexes = ((('merchant', 'receipt_no'), True), (('merchant', 'id'), False))
    db.create_tables([PointsAward])

    class Redemption(Model):
        kind = CharField(max_length=16)
        code = CharField(index=True, max_length=32)
        merchant = ForeignKeyField(Merchant, on_delete='RESTRICT')
        shop_id = IntegerField(null=True)
        staff_user_id = IntegerField()
        user_id = IntegerField(index=True, null=True)
        ref_type = CharField(max_length=16)
        ref_id = CharField(max_length=64)
        title = CharField(max_length=128, default='')
        issuer_merchant_id = IntegerField(null=True)
        distributor_merchant_id = IntegerField(null=True)
        status = CharField(max_length=16, default='done')
        created_at = UTCDateTimeField()
        undone_at = UTCDateTimeField(null=True)
        undone_by = IntegerField(null=True)
        class Meta:
            database = db
            table_name = 'redemption'
            indexes = ((('merchant', 'id'), False), (('ref_type', 'ref_id'), False))
    db.create_tables([Redemption])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('redemption'))
    migrator.migrate(migrator.drop_table('points_award'))
    migrator.migrate(migrator.drop_table('merchant_member'))
    migrator.migrate(migrator.drop_table('merchant_level_rule'))
    migrator.migrate(migrator.drop_table('coupon'))
    migrator.migrate(migrator.drop_table('coupon_distribution'))
    migrator.migrate(migrator.drop_table('coupon_template'))
    migrator.migrate(migrator.drop_table('commission_entry'))
