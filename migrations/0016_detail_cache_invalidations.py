# Generated from a schema diff on 2026-11-28 03:05.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class CacheInvalidation(Model):
        cache = CharField(max_length=64)
        key = CharField(null=True, max_length=191)
        created_at = UTCDateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'cache_invalidation'
    db.create_tables([CacheInvalidation])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('cache_invalidation'))
