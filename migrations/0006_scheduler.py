# Generated from a schema diff on 2026-11-28 00:27.
from peewee import *
from alliance.db import UTCDateTimeField


def up(migrator, db):
    class JobLease(Model):
        name = CharField(primary_key=True, max_length=64)
        holder = CharField(null=True, max_length=128)
        slot = UTCDateTimeField(null=True)
        run_id = IntegerField(null=True)
        acquired_at = UTCDateTimeField(null=True)
        expires_at = UTCDateTimeField(null=True)
        done_slot = UTCDateTimeField(null=True)
        done_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'job_lease'
    db.create_tables([JobLease])

    class JobRun(Model):
        job = CharField(max_length=64)
        slot = UTCDateTimeField()
        holder = CharField(max_length=128)
        outcome = CharField(max_length=16, default='running')
        counts = TextField(default='{}')
        error = TextField(null=True)
        started_at = UTCDateTimeField()
        finished_at = UTCDateTimeField(index=True, null=True)
        class Meta:
            database = db
            table_name = 'job_run'
            indexes = ((('job', 'id'), False), (('job', 'outcome'), False))
    db.create_tables([JobRun])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('job_run'))
    migrator.migrate(migrator.drop_table('job_lease'))
