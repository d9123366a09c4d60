# Generated from a schema diff on 2026-12-07 23:10.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class PlatformPush(Model):
        campaign_id = IntegerField()
        title = CharField(max_length=32)
        content = CharField(max_length=200)
        segment = TextField()
        status = CharField(max_length=16, default='sending')
        recipients = IntegerField(default=0)
        after_user_id = IntegerField(default=0)
        local_day = CharField(max_length=10)
        created_by = IntegerField()
        created_at = UTCDateTimeField()
        finished_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'platform_push'
            indexes = ((('status', 'id'), False), (('campaign_id', 'id'), False))
    db.create_tables([PlatformPush])

    class PlatformPushQuota(Model):
        local_day = CharField(max_length=10, primary_key=True)
        used = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'platform_push_quota'
    db.create_tables([PlatformPushQuota])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('platform_push_quota'))
    migrator.migrate(migrator.drop_table('platform_push'))
