"""The coupon tables.

``CouponTemplate.issued`` counts coupons handed out; it only grows by a guarded update
(``issued < total_stock``), so stock is never oversold. A ``Coupon`` takes one of the
user's ``per_user_limit`` slots of its template (``seq``, unique with the template and
user), which holds the per-user limit under concurrency. A template issued by one merchant
is carried by partner merchants through ``CouponDistribution`` rows; a coupon claimed
through one remembers its distributor, who is owed ``commission_fen`` per redemption.
"""
from __future__ import annotations

import json

from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant

KINDS = ("fixed", "percent", "service")
SCOPES = ("merchant", "items", "alliance")
CHANNELS = ("own", "partner", "platform", "points")
CENTERS = ("platform", "points")  # the coupon center's lists, each of one channel


def center_of(channels) -> str | None:
    """The coupon center list of a template claimed through ``channels``: ``points`` is
    exclusive (an exchange for points); ``platform`` is the free list."""
    return next((center for center in reversed(CENTERS) if center in channels), None)
TEMPLATE_STATUSES = ("active", "paused", "ended")
# active -> locked (held by an order) -> used (paid) | active (order cancelled);
# active -> redeemed (at a counter) -> active (redemption undone); active -> expired.
COUPON_STATUSES = ("active", "locked", "used", "redeemed", "expired")


class CouponTemplate(BaseModel):
    """What a coupon is worth, where it is valid, how many there are and how to get one.

    ``merchant`` is the issuer who funds the discount; null for platform coupons. Validity is
    either ``valid_from``..``valid_until`` or ``valid_days`` after the claim.
    """

    id = AutoField()
    merchant = ForeignKeyField(Merchant, null=True, backref="coupon_templates",
                               on_delete="RESTRICT")
    name = CharField(max_length=64)
    description = CharField(max_length=500, default="")
    kind = CharField(max_length=16)  # fixed | percent | service
    threshold_fen = IntegerField(default=0)  # the order amount a coupon needs (满 X)
    discount_fen = IntegerField(default=0)  # fixed: the reduction (减 Y)
    percent_off = IntegerField(default=0)  # percent: 1..90 (% off)
    max_discount_fen = IntegerField(default=0)  # percent: the cap
    item_id = IntegerField(null=True)  # service: the service item it pays for
    scope = CharField(max_length=16, default="merchant")  # merchant | items | alliance
    scope_item_ids = TextField(default="[]")  # items scope: JSON list of catalog item ids
    valid_from = UTCDateTimeField(null=True)
    valid_until = UTCDateTimeField(null=True)
    valid_days = IntegerField(null=True)
    claim_starts_at = UTCDateTimeField(default=utcnow)
    claim_ends_at = UTCDateTimeField(null=True)
    total_stock = IntegerField()
    issued = IntegerField(default=0)
    per_user_limit = IntegerField(default=1)
    channels = CharField(max_length=64)  # comma-separated subset of CHANNELS
    # The coupon center that lists it ("platform": free, "points": for points), if any:
    # a column of its own so that the center reads an index, not every active template.
    center = CharField(max_length=16, null=True)
    points_cost = IntegerField(default=0)  # points channel: the price in points
    status = CharField(max_length=16, default="active")
    created_by_kind = CharField(max_length=16)  # user (merchant staff) | operator
    created_by = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("merchant", "status", "id"), False),
                   (("status", "id"), False),
                   (("center", "status", "id"), False))

    @property
    def channel_set(self) -> frozenset[str]:
        return frozenset(c for c in self.channels.split(",") if c)

    @property
    def item_ids(self) -> list[int]:
        return json.loads(self.scope_item_ids or "[]")

    @property
    def tier(self) -> str:
        """``shop`` (issued by a merchant) or ``platform``: an order stacks one of each."""
        return "platform" if self.merchant_id is None else "shop"


class CouponDistribution(BaseModel):
    """A partner merchant carrying another merchant's coupon template at its counter.

    ``commission_fen`` is owed by the issuer to the distributor for every redeemed coupon
    claimed through it; ``cooperation_id`` links the cooperation that agreed the terms.
    """

    id = AutoField()
    template = ForeignKeyField(CouponTemplate, backref="distributions", on_delete="CASCADE")
    distributor = ForeignKeyField(Merchant, backref="carried_coupons", on_delete="CASCADE")
    commission_fen = IntegerField(default=0)
    cooperation_id = IntegerField(null=True)
    status = CharField(max_length=16, default="active")  # active | ended
    created_by = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("template", "distributor"), True),
                   (("distributor", "status"), False))


class Coupon(BaseModel):
    """One consumer's coupon: its code, validity, state and where it came from."""

    id = AutoField()
    template = ForeignKeyField(CouponTemplate, backref="coupons", on_delete="RESTRICT")
    user_id = IntegerField()
    seq = IntegerField()  # which of the user's per_user_limit slots of the template
    code = CharField(max_length=16, unique=True)
    status = CharField(max_length=16, default="active")
    valid_from = UTCDateTimeField()
    valid_until = UTCDateTimeField()
    channel = CharField(max_length=16)  # how it was got: one of CHANNELS, or "lottery" (won)
    distribution = ForeignKeyField(CouponDistribution, null=True, backref="coupons",
                                   on_delete="SET NULL")
    distributor_merchant_id = IntegerField(null=True, index=True)
    # What its issuer owes the distributor when it is used: the distribution's terms when it
    # was handed out, kept whatever the issuer changes or ends afterwards.
    commission_fen = IntegerField(default=0)
    # The cooperation whose terms it was handed out under (its distribution's then): a
    # distribution renewed by a later cooperation leaves the coupons it gave out before theirs.
    cooperation_id = IntegerField(null=True, index=True)
    referrer_user_id = IntegerField(null=True, index=True)
    scene = CharField(max_length=64, default="")
    order_ref = CharField(max_length=64, null=True, index=True)  # the order holding it
    claimed_at = UTCDateTimeField(default=utcnow)
    used_at = UTCDateTimeField(null=True)

    class Meta:
        # (template, status): the used counts of a page of templates, without reading every
        # used coupon of the platform through (status, valid_until), as SQLite chose to.
        indexes = ((("template", "user_id", "seq"), True),
                   (("template", "status"), False),
                   (("user_id", "status", "valid_until"), False),
                   (("status", "valid_until"), False))


def _move_coupons(source_id: int, target_id: int) -> int:
    from alliance.coupons.claims import move_user_coupons

    return move_user_coupons(source_id, target_id)


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data("coupons", models=(Coupon,), move=_move_coupons)


_register()
