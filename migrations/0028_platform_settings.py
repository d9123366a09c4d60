# Generated from a schema diff on 2026-12-07 19:33; upload.owner_id made nullable by hand
# (an operator's upload, the platform's logo, has no consumer owner).
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class PlatformSettings(Model):
        id = IntegerField(primary_key=True)
        name = CharField(max_length=64)
        logo_upload = CharField(null=True, max_length=32)
        contact_phone = CharField(max_length=32)
        contact_hours = CharField(max_length=64)
        privacy_policy_version = IntegerField(default=1)
        user_agreement_version = IntegerField(default=1)
        revision = IntegerField(default=0)
        updated_by = IntegerField(null=True)
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'platform_settings'
    db.create_tables([PlatformSettings])

    class PolicyVersion(Model):
        kind = CharField(max_length=16)
        version = IntegerField()
        text = TextField()
        created_by = IntegerField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'policy_version'
            indexes = ((('kind', 'version'), True),)
    db.create_tables([PolicyVersion])

    migrator.migrate(migrator.add_column('upload', 'operator_id', IntegerField(null=True)))
    migrator.migrate(migrator.drop_not_null('upload', 'owner_id'))


def down(migrator, db):
    db.execute_sql('DELETE FROM upload WHERE owner_id IS NULL')
    migrator.migrate(migrator.add_not_null('upload', 'owner_id'))
    migrator.migrate(migrator.drop_column('upload', 'operator_id'))
    migrator.migrate(migrator.drop_table('policy_version'))
    migrator.migrate(migrator.drop_table('platform_settings'))
