# Generated from a schema diff on 2026-12-07 16:14; the existing coupons' cooperations filled by hand.
from peewee import *
from alliance.db import UTCDateTimeField


def _fill_cooperations(db):
    """A coupon handed out through a distribution that a cooperation agreed was handed out
    under that cooperation's terms."""
    class CouponDistribution(Model):
        cooperation_id = IntegerField(null=True)
        class Meta:
            database = db
            table_name = 'coupon_distribution'

    class Coupon(Model):
        distribution = ForeignKeyField(CouponDistribution, null=True)
        cooperation_id = IntegerField(null=True)
        class Meta:
            database = db
            table_name = 'coupon'

    agreed = CouponDistribution.select(CouponDistribution.cooperation_id).where(
        CouponDistribution.id == Coupon.distribution)
    Coupon.update(cooperation_id=agreed).where(Coupon.distribution.is_null(False)).execute()


def up(migrator, db):
    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class Cooperation(Model):
        proposer = ForeignKeyField(Merchant, on_delete='RESTRICT', index=False)
        partner = ForeignKeyField(Merchant, on_delete='RESTRICT', index=False)
        kind = CharField(max_length=32)
        status = CharField(max_length=16, default='proposed')
        turn_merchant_id = IntegerField(null=True)
        open_key = CharField(unique=True, null=True, max_length=64)
        commission_fen = IntegerField(default=0)
        sales_share_bp = IntegerField(default=0)
        template_ids = CharField(default='[]')
        description = CharField(max_length=500, default='')
        ends_at = UTCDateTimeField(null=True)
        version = IntegerField(default=1)
        created_by = IntegerField()
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        accepted_at = UTCDateTimeField(null=True)
        closed_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'cooperation'
            indexes = ((('proposer', 'status', 'id'), False), (('partner', 'status', 'id'), False), (('status', 'id'), False))
    db.create_tables([Cooperation])

    class CooperationEvent(Model):
        cooperation = ForeignKeyField(Cooperation, on_delete='CASCADE')
        merchant_id = IntegerField(null=True)
        staff_user_id = IntegerField(null=True)
        action = CharField(max_length=16)
        terms = TextField()
        message = CharField(max_length=500, default='')
        version = IntegerField()
        at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'cooperation_event'
    db.create_tables([CooperationEvent])

    migrator.migrate(migrator.add_column('coupon', 'cooperation_id', IntegerField(index=True, null=True)))
    _fill_cooperations(db)


def down(migrator, db):
    migrator.migrate(migrator.drop_index('coupon', 'coupon_cooperation_id'))
    migrator.migrate(migrator.drop_column('coupon', 'cooperation_id'))
    migrator.migrate(migrator.drop_table('cooperation_event'))
    migrator.migrate(migrator.drop_table('cooperation'))
