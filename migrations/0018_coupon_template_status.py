# Generated from a schema diff on 2026-12-07 14:24.
from peewee import *

def up(migrator, db):
    migrator.migrate(migrator.add_index('coupon', ('template_id', 'status')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('coupon', 'coupon_template_id_status'))
