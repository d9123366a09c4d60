"""Tables of the shared machinery."""
from __future__ import annotations

import datetime as dt

from peewee import AutoField, BigIntegerField, CharField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow


class IdempotencyRecord(BaseModel):
    """The first answer to a creating request, replayed for 24 h to the same key."""

    id = AutoField()
    principal = CharField(max_length=48)
    key = CharField(max_length=128)
    fingerprint = CharField(max_length=64)
    state = CharField(max_length=16, default="running")  # running | done
    response_status = IntegerField(null=True)
    response_body = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)
    # When the request that answers was claimed: created_at, or later when a retry took over
    # a claim whose process had died. NULL on rows written before it existed (and by older
    # processes while a deploy migrates), whose claim is created_at. Not indexed: a takeover
    # then locks its one row and nothing else.
    claimed_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("principal", "key"), True),)

    @property
    def claimed(self) -> dt.datetime:
        """When the request that answers (or is answering) was claimed."""
        return self.claimed_at or self.created_at


class RateCounter(BaseModel):
    """A fixed-window counter for rate limits when Redis is not configured."""

    id = AutoField()
    bucket = CharField(max_length=191)
    window = BigIntegerField()
    hits = IntegerField(default=0)
    expires_at = BigIntegerField(index=True)  # epoch seconds at the window's end

    class Meta:
        indexes = ((("bucket", "window"), True),)


class KeyValue(BaseModel):
    """Small shared values with an expiry (WeChat access tokens and the like)."""

    key = CharField(max_length=191, primary_key=True)
    value = TextField()
    expires_at = UTCDateTimeField(null=True, index=True)


class CacheInvalidation(BaseModel):
    """A write other processes must drop from their local caches (alliance.infra.localcache):
    written in the writer's transaction, read by every server process about once a second."""

    id = AutoField()
    cache = CharField(max_length=64)
    key = CharField(max_length=191, null=True)  # None: everything that cache holds
    created_at = UTCDateTimeField(default=utcnow, index=True)
