# Generated from a schema diff on 2026-11-28 00:17.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class IdempotencyRecord(Model):
        principal = CharField(max_length=48)
        key = CharField(max_length=128)
        fingerprint = CharField(max_length=64)
        state = CharField(max_length=16, default='running')
        response_status = IntegerField(null=True)
        response_body = TextField(null=True)
        created_at = UTCDateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'idempotency_record'
            indexes = ((('principal', 'key'), True),)
    db.create_tables([IdempotencyRecord])

    class KeyValue(Model):
        key = CharField(primary_key=True, max_length=191)
        value = TextField()
        expires_at = UTCDateTimeField(index=True, null=True)
        class Meta:
            database = db
            table_name = 'key_value'
    db.create_tables([KeyValue])

    class RateCounter(Model):
        bucket = CharField(max_length=191)
        window = BigIntegerField()
        hits = IntegerField(default=0)
        expires_at = BigIntegerField(index=True)
        class Meta:
            database = db
            table_name = 'rate_counter'
            indexes = ((('bucket', 'window'), True),)
    db.create_tables([RateCounter])

    class RefreshFamily(Model):
        id = CharField(primary_key=True, max_length=32)
        subject_kind = CharField(max_length=16)
        subject_id = CharField(index=True, max_length=32)
        created_at = UTCDateTimeField()
        revoked_at = UTCDateTimeField(null=True)
        revoked_reason = CharField(null=True, max_length=32)
        class Meta:
            database = db
            table_name = 'refresh_family'
    db.create_tables([RefreshFamily])

    class RefreshToken(Model):
        jti = CharField(primary_key=True, max_length=32)
        family = ForeignKeyField(RefreshFamily, on_delete='CASCADE')
        issued_at = UTCDateTimeField()
        expires_at = UTCDateTimeField()
        used_at = UTCDateTimeField(null=True)
        replaced_by = CharField(null=True, max_length=32)
        revoked = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'refresh_token'
    db.create_tables([RefreshToken])

    class User(Model):
        nickname = CharField(max_length=64, default='')
        avatar_url = CharField(max_length=512, default='')
        phone = CharField(unique=True, null=True, max_length=20)
        status = CharField(index=True, max_length=16, default='active')
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class WechatIdentity(Model):
        appid = CharField(max_length=32)
        openid = CharField(max_length=64)
        unionid = CharField(index=True, null=True, max_length=64)
        user = ForeignKeyField(User, on_delete='CASCADE')
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'wechat_identity'
            indexes = ((('appid', 'openid'), True),)
    db.create_tables([WechatIdentity])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('wechat_identity'))
    migrator.migrate(migrator.drop_table('user'))
    migrator.migrate(migrator.drop_table('refresh_token'))
    migrator.migrate(migrator.drop_table('refresh_family'))
    migrator.migrate(migrator.drop_table('rate_counter'))
    migrator.migrate(migrator.drop_table('key_value'))
    migrator.migrate(migrator.drop_table('idempotency_record'))
