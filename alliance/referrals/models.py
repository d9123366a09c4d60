"""Tables of referral codes, attributions, rewards and the QR image cache."""
from __future__ import annotations

from peewee import AutoField, BlobField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.accounts.models import User
from alliance.db import BaseModel, UTCDateTimeField, utcnow


class MediumBlobField(BlobField):
    """Bytes up to 16 MiB on MySQL (a plain BLOB stops at 64 KiB); BLOB on SQLite."""

    field_type = "MEDIUMBLOB"


class ReferralCode(BaseModel):
    """The code in a consumer's referral QR code or a merchant's counter poster."""

    code = CharField(max_length=16, primary_key=True)
    owner_kind = CharField(max_length=16)  # user | merchant
    owner_id = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner_kind", "owner_id"), True),)


class ReferralAttribution(BaseModel):
    """Who brought a consumer: one row per consumer, first touch within the window.

    ``status``: bound (a source holds the consumer until ``expires_at``), converted (first
    paid order inside the window), lapsed (first paid order after it), organic (first paid
    order without any source). Only ``bound`` rows change; a lapsed window is re-bound by
    the next touch.
    """

    id = AutoField()
    invitee = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    status = CharField(max_length=16)
    source_kind = CharField(max_length=16, null=True)  # user | merchant
    referrer = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    merchant_id = IntegerField(null=True, index=True)
    code = CharField(max_length=16, null=True)
    channel = CharField(max_length=16, null=True)  # miniprogram | oa
    bound_at = UTCDateTimeField(null=True)
    expires_at = UTCDateTimeField(null=True)
    converted_at = UTCDateTimeField(null=True)
    first_order_ref = CharField(max_length=64, null=True)
    # What the touch shared, when it came from a share card or its code: campaign |
    # group_buy | item | merchant, and its id (a campaign's effect counts them).
    share_kind = CharField(max_length=16, null=True)
    share_id = IntegerField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("referrer", "id"), False), (("share_kind", "share_id"), False))


class ReferralReward(BaseModel):
    """The reward a referrer earns for an invitee's first paid order (one per invitee)."""

    id = AutoField()
    invitee = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    referrer = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    attribution = ForeignKeyField(ReferralAttribution, backref="rewards", on_delete="CASCADE")
    order_ref = CharField(max_length=64)
    kind = CharField(max_length=16)  # points | coupon
    points = IntegerField(default=0)
    credit_ref = CharField(max_length=64, null=True)  # points:<ledger entry id>
    created_at = UTCDateTimeField(default=utcnow)


class QrImage(BaseModel):
    """A generated QR image (or official-account ticket), made once per kind and scene.

    ``status`` generating marks a claim: whoever inserted the row asks WeChat; the others
    wait for ``ready``. A claim older than the lease is taken over (its maker died).
    """

    key = CharField(max_length=191, primary_key=True)
    kind = CharField(max_length=16)  # wxacode | oa_qrcode | svg | poster
    status = CharField(max_length=16, default="generating")
    content = MediumBlobField(null=True)
    meta = TextField(null=True)  # JSON (official-account ticket and url)
    claimed_at = UTCDateTimeField(default=utcnow)
    created_at = UTCDateTimeField(default=utcnow)


def _move_referrals(source_id: int, target_id: int) -> int:
    """A merge: the absorbed account's referrals become the surviving account's.

    What the survivor already has wins where only one row may exist (its code, its own
    attribution and reward as an invitee); the absorbed rows then stay as records of it.
    """
    moved = (ReferralAttribution.update(referrer=target_id)
             .where(ReferralAttribution.referrer == source_id).execute())
    moved += ReferralReward.update(referrer=target_id).where(ReferralReward.referrer == source_id).execute()
    for model in (ReferralAttribution, ReferralReward):
        if not model.select().where(model.invitee == target_id).exists():
            moved += model.update(invitee=target_id).where(model.invitee == source_id).execute()
    if not ReferralCode.select().where(ReferralCode.owner_kind == "user",
                                       ReferralCode.owner_id == target_id).exists():
        moved += (ReferralCode.update(owner_id=target_id)
                  .where(ReferralCode.owner_kind == "user", ReferralCode.owner_id == source_id)
                  .execute())
    return moved


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data("referrals", models=(ReferralCode, ReferralAttribution, ReferralReward),
                       move=_move_referrals, erase=None)


_register()
