"""The outbox table."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow


class OutboxMessage(BaseModel):
    """One notification to deliver; ``status`` pending -> sending (claimed, with a lease in
    ``next_attempt_at``) -> sent | pending (retry later) | failed (permanent)."""

    id = AutoField()
    event = CharField(max_length=64, index=True)
    user_id = IntegerField(index=True)
    payload = TextField()  # JSON
    dedupe_key = CharField(max_length=191, null=True, unique=True)
    status = CharField(max_length=16, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(default=utcnow)
    last_error = CharField(max_length=255, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    sent_at = UTCDateTimeField(null=True)
    channel = CharField(max_length=16, null=True)  # subscribe | oa: what delivered it

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),)


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data(
        "notifications", models=(OutboxMessage,),
        move=lambda source_id, target_id: (OutboxMessage.update(user_id=target_id)
                                           .where(OutboxMessage.user_id == source_id,
                                                  OutboxMessage.status == "pending").execute()),
        erase=lambda user_id: (OutboxMessage.delete()
                               .where(OutboxMessage.user_id == user_id).execute()))


_register()
