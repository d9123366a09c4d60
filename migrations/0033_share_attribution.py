# Generated from a schema diff on 2026-12-07 22:45.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('referral_attribution', 'share_kind', CharField(max_length=16, null=True)),
        migrator.add_column('referral_attribution', 'share_id', IntegerField(null=True)),
        migrator.add_index('referral_attribution', ('share_kind', 'share_id'), False))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('referral_attribution', 'referral_attribution_share_kind_share_id'),
        migrator.drop_column('referral_attribution', 'share_id'),
        migrator.drop_column('referral_attribution', 'share_kind'))
