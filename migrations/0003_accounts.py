# Generated from a schema diff on 2026-11-28 00:22.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class AccountMerge(Model):
        source_user = ForeignKeyField(User, on_delete='RESTRICT')
        target_user = ForeignKeyField(User, on_delete='RESTRICT')
        reason = CharField(max_length=16)
        moved = TextField(default='{}')
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'account_merge'
    db.create_tables([AccountMerge])

    class LoginCode(Model):
        channel = CharField(max_length=8)
        target = CharField(max_length=191)
        code_hash = CharField(max_length=64, default='')
        salt = CharField(max_length=32, default='')
        state = CharField(max_length=16, default='new')
        attempts = IntegerField(default=0)
        sent_at = UTCDateTimeField(null=True)
        expires_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'login_code'
            indexes = ((('channel', 'target'), True),)
    db.create_tables([LoginCode])

    migrator.migrate(migrator.add_column('user', 'email', CharField(unique=True, null=True, max_length=191)))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('user', 'user_email'))
    migrator.migrate(migrator.drop_column('user', 'email'))
    migrator.migrate(migrator.drop_table('login_code'))
    migrator.migrate(migrator.drop_table('account_merge'))
