# Generated from a schema diff on 2026-11-28 00:20.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class Operator(Model):
        username = CharField(unique=True, max_length=64)
        display_name = CharField(max_length=64, default='')
        password_hash = CharField()
        role = CharField(max_length=32)
        status = CharField(max_length=16, default='active')
        failed_attempts = IntegerField(default=0)
        locked_until = UTCDateTimeField(null=True)
        last_login_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'operator'
    db.create_tables([Operator])

    class OperatorAuditLog(Model):
        operator = ForeignKeyField(Operator, on_delete='RESTRICT')
        action = CharField(index=True, max_length=64)
        target_type = CharField(max_length=32)
        target_id = CharField(max_length=64)
        reason = CharField(max_length=500, default='')
        details = TextField(default='{}')
        created_at = UTCDateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'operator_audit_log'
            indexes = ((('target_type', 'target_id'), False),)
    db.create_tables([OperatorAuditLog])

    class OutboxMessage(Model):
        event = CharField(index=True, max_length=64)
        user_id = IntegerField(index=True)
        payload = TextField()
        dedupe_key = CharField(unique=True, null=True, max_length=191)
        status = CharField(max_length=16, default='pending')
        attempts = IntegerField(default=0)
        next_attempt_at = UTCDateTimeField()
        last_error = CharField(null=True)
        created_at = UTCDateTimeField()
        sent_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'outbox_message'
            indexes = ((('status', 'next_attempt_at'), False),)
    db.create_tables([OutboxMessage])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('outbox_message'))
    migrator.migrate(migrator.drop_table('operator_audit_log'))
    migrator.migrate(migrator.drop_table('operator'))
