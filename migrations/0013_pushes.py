# Generated from a schema diff on 2026-11-28 01:24.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Merchant(Model):
        class Meta:
            database = db
            table_name = 'merchant'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class MerchantPush(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        title = CharField(max_length=32)
        content = CharField(max_length=200)
        page = CharField(max_length=128)
        segment = TextField()
        recipients = IntegerField()
        local_day = CharField(max_length=10)
        created_by_user_id = IntegerField()
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'merchant_push'
            indexes = ((('merchant', 'id'), False),)
    db.create_tables([MerchantPush])

    class MerchantPushQuota(Model):
        merchant = ForeignKeyField(Merchant, on_delete='CASCADE')
        local_day = CharField(max_length=10)
        used = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'merchant_push_quota'
            indexes = ((('merchant', 'local_day'), True),)
    db.create_tables([MerchantPushQuota])

    class PushOptOut(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        merchant_id = IntegerField()
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'push_opt_out'
            indexes = ((('user', 'merchant_id'), True), (('merchant_id', 'user'), False))
    db.create_tables([PushOptOut])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('push_opt_out'))
    migrator.migrate(migrator.drop_table('merchant_push_quota'))
    migrator.migrate(migrator.drop_table('merchant_push'))
