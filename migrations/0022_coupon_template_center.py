# Generated from a schema diff on 2026-12-07 16:20; the existing templates' centers filled by hand.
from peewee import *


def _fill_centers(db):
    """Every template's ``center``, as ``coupons.models.center_of`` gives it: ``points`` is
    an exclusive channel, ``platform`` one of several (comma-separated)."""
    class CouponTemplate(Model):
        channels = CharField(max_length=64)
        center = CharField(max_length=16, null=True)
        class Meta:
            database = db
            table_name = 'coupon_template'

    CouponTemplate.update(center='points').where(CouponTemplate.channels == 'points').execute()
    (CouponTemplate.update(center='platform')
     .where(CouponTemplate.channels.contains('platform'), CouponTemplate.center.is_null())
     .execute())


def up(migrator, db):
    migrator.migrate(migrator.add_column('coupon_template', 'center',
                                         CharField(max_length=16, null=True)))
    _fill_centers(db)
    migrator.migrate(migrator.add_index('coupon_template', ('center', 'status', 'id')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('coupon_template', 'coupon_template_center_status_id'))
    migrator.migrate(migrator.drop_column('coupon_template', 'center'))
