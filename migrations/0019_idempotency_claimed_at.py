# Generated from a schema diff on 2026-12-07 15:42.
from peewee import *
from alliance.db import UTCDateTimeField

def up(migrator, db):
    migrator.migrate(migrator.add_column('idempotency_record', 'claimed_at', UTCDateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('idempotency_record', 'claimed_at'))
