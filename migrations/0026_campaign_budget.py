# Generated from a schema diff on 2026-12-07 17:15.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    migrator.migrate(migrator.add_column('campaign', 'budget_used_fen', BigIntegerField(default=0)))
    migrator.migrate(migrator.add_column('campaign_use', 'from_budget', BooleanField(default=False)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('campaign_use', 'from_budget'))
    migrator.migrate(migrator.drop_column('campaign', 'budget_used_fen'))
