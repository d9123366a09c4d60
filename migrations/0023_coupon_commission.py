# Generated from a schema diff on 2026-12-07 16:45; the existing coupons' commissions filled by hand.
from peewee import *


def _fill_commissions(db):
    """A coupon handed out by a partner before its terms were kept on it owes what its
    distribution owes now: the terms it was handed out under are not known any more."""
    class CouponDistribution(Model):
        commission_fen = IntegerField()
        class Meta:
            database = db
            table_name = 'coupon_distribution'

    class Coupon(Model):
        distribution = ForeignKeyField(CouponDistribution, null=True)
        commission_fen = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'coupon'

    terms = CouponDistribution.select(CouponDistribution.commission_fen).where(
        CouponDistribution.id == Coupon.distribution)
    Coupon.update(commission_fen=terms).where(Coupon.distribution.is_null(False)).execute()


def up(migrator, db):
    migrator.migrate(migrator.add_column('coupon', 'commission_fen', IntegerField(default=0)))
    _fill_commissions(db)


def down(migrator, db):
    migrator.migrate(migrator.drop_column('coupon', 'commission_fen'))
