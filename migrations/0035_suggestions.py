# Generated from a schema diff on 2026-12-07 23:00: a suggestion about the platform names no
# merchant.
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.drop_not_null('complaint', 'merchant_id'))


def down(migrator, db):
    db.execute_sql('DELETE FROM complaint WHERE merchant_id IS NULL')
    migrator.migrate(migrator.add_not_null('complaint', 'merchant_id'))
