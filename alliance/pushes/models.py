"""Tables of merchant pushes: each push, the daily count per merchant, and opt-outs."""
from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.accounts.models import User
from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant

ALL_MERCHANTS = 0  # PushOptOut.merchant_id of a consumer who refuses every merchant's pushes
PLATFORM = -1  # PushOptOut.merchant_id of a consumer who refuses the platform's promotions


class MerchantPush(BaseModel):
    """One push a merchant sent: what it said, to which segment, how many it reached."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="pushes", on_delete="CASCADE")
    title = CharField(max_length=32)
    content = CharField(max_length=200)
    page = CharField(max_length=128)
    segment = TextField()  # JSON: levels, last_visit_within_days, last_visit_before_days
    recipients = IntegerField()
    local_day = CharField(max_length=10)  # Asia/Shanghai date it counts against
    created_by_user_id = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("merchant", "id"), False),)


class MerchantPushQuota(BaseModel):
    """How many pushes a merchant sent on one Shanghai calendar day; ``used`` grows only
    by a guarded UPDATE (``used < limit``), so the daily limit holds under concurrency."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="+", on_delete="CASCADE")
    local_day = CharField(max_length=10)
    used = IntegerField(default=0)

    class Meta:
        indexes = ((("merchant", "local_day"), True),)


class PlatformPush(BaseModel):
    """A promotion of a campaign the platform pushes to consumers, written to the outbox in
    batches by user id (``after_user_id``: the last one queued) until ``done``."""

    id = AutoField()
    campaign_id = IntegerField()
    title = CharField(max_length=32)
    content = CharField(max_length=200)
    segment = TextField()  # JSON: industries, active_within_days, registered_within_days
    status = CharField(max_length=16, default="sending")  # sending | done
    recipients = IntegerField(default=0)  # queued so far
    after_user_id = IntegerField(default=0)
    local_day = CharField(max_length=10)  # Asia/Shanghai date it counts against
    created_by = IntegerField()  # the operator
    created_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("status", "id"), False), (("campaign_id", "id"), False))


class PlatformPushQuota(BaseModel):
    """How many promotions the platform pushed on one Shanghai calendar day; ``used`` grows
    only by a guarded UPDATE (``used < limit``)."""

    local_day = CharField(max_length=10, primary_key=True)
    used = IntegerField(default=0)


class PushOptOut(BaseModel):
    """A consumer refusing pushes of one merchant, of all merchants (``merchant_id`` 0:
    the platform's promotions too), or of the platform's promotions (-1)."""

    id = AutoField()
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    merchant_id = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "merchant_id"), True),
                   (("merchant_id", "user"), False))


def _move_opt_outs(source_id: int, target_id: int) -> int:
    """A merge: the person's refusals stay refusals on the surviving account."""
    # Materialised: MySQL refuses a subquery on the table being updated.
    kept = [row.merchant_id for row in
            PushOptOut.select(PushOptOut.merchant_id).where(PushOptOut.user == target_id)]
    moving = PushOptOut.update(user=target_id).where(PushOptOut.user == source_id)
    if kept:
        moving = moving.where(PushOptOut.merchant_id.not_in(kept))
    return moving.execute()


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data("push_opt_outs", models=(PushOptOut,), move=_move_opt_outs,
                       erase=lambda user_id: (PushOptOut.delete()
                                              .where(PushOptOut.user == user_id).execute()))
    # Who sent a push is a record of a staff action; it stays with that account.
    register_user_data("merchant_pushes", models=(MerchantPush,))
    # A promotion's after_user_id is a position in user id order, not a reference to anyone:
    # a merge or a deletion leaves it.
    register_user_data("platform_push_cursors", models=(PlatformPush,))


_register()
