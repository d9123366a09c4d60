"""The campaign tables.

A ``campaign`` is a flash sale (``flash_sale``: a campaign price per item, optionally a
limited campaign stock and a per-user limit), a full reduction (``full_reduction``: tiers
"spend X, save Y") or a group buy (``group_buy``: a group price per item, held by an order
only inside a group of ``group_size`` people that fills within ``group_hours``; stock and
per-user limit as a flash sale's), between ``starts_at`` and ``ends_at`` (UTC,
``[starts_at, ends_at)``).
``merchant_id`` is the merchant that runs and funds it, None for a platform campaign (funded
by the platform). It runs while ``approved`` and inside its window.

Each merchant taking part is a ``campaign_participant`` (unique per campaign and merchant):
a merchant's own campaign has its owner as the one participant, approved with it; a merchant
joining a platform campaign is ``pending`` until an operator approves it (or ``approved`` at
once when the campaign needs no audit of joins). A flash sale's or group buy's items are
``campaign_item`` rows (unique per campaign and item), whose ``stock_left`` (None: as much as
the item's own stock) orders take by a guarded UPDATE.

``campaign_quota`` counts the units a user bought of a campaign item (unique per item and
user), taken by a guarded UPDATE against the campaign's ``per_user_limit``. ``campaign_use``
is one row per campaign price or reduction an order got (what it took and gave), written in
the order's transaction; ``released_at`` is when an order that was never paid gave its
campaign stock and quota back (and, ``from_budget``, its discount to the campaign's budget).

A ``campaign_group`` is one group of a group buy's item: started by an order, joined by
others, each holding one ``campaign_group_member`` seat (unique per group and user) taken by
a guarded UPDATE of ``seats_taken`` (``alliance.campaigns.groups``); it ``succeeded`` when
``paid_count`` reaches ``group_size``, or ``failed`` past its ``deadline``
(``alliance.campaigns.group_expiry``).

A platform campaign with a ``budget_fen`` gives at most that much: each order takes its
discount from it by a guarded UPDATE of ``budget_used_fen`` (``alliance.campaigns.budget``).
"""
from __future__ import annotations

import json

from peewee import (AutoField, BigIntegerField, BooleanField, CharField, ForeignKeyField,
                    IntegerField, TextField)

from alliance.accounts.merge import register_user_data
from alliance.db import BaseModel, UTCDateTimeField, utcnow

FLASH_SALE, FULL_REDUCTION, GROUP_BUY = "flash_sale", "full_reduction", "group_buy"
KINDS = (FLASH_SALE, FULL_REDUCTION, GROUP_BUY)
ITEM_KINDS = (FLASH_SALE, GROUP_BUY)  # the kinds that price items (campaign_item rows)

PENDING, APPROVED, REJECTED, ENDED = "pending", "approved", "rejected", "ended"
CAMPAIGN_STATUSES = (PENDING, APPROVED, REJECTED, ENDED)
PARTICIPANT_STATUSES = (PENDING, APPROVED, REJECTED)


class Campaign(BaseModel):
    id = AutoField()
    kind = CharField(max_length=16)
    merchant_id = IntegerField(null=True)  # the merchant that runs and funds it; None: platform
    name = CharField(max_length=64)
    description = CharField(max_length=500, default="")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    per_user_limit = IntegerField(null=True)  # flash sale, group buy: units per user and item
    group_size = IntegerField(null=True)  # group buy: the people a group needs
    group_hours = IntegerField(null=True)  # group buy: how long a group has to fill
    tiers = TextField(default="[]")  # full reduction: [{"threshold_fen", "discount_fen"}]
    budget_fen = BigIntegerField(null=True)  # platform campaigns: the most it gives; None: no limit
    budget_used_fen = BigIntegerField(default=0)  # taken by orders while it had a budget
    join_requires_approval = BooleanField(default=True)  # platform campaigns
    status = CharField(max_length=16, default=PENDING)
    reason = CharField(max_length=200, default="")  # why it was rejected
    created_by_kind = CharField(max_length=8)  # user | operator
    created_by = IntegerField()
    reviewed_by = IntegerField(null=True)  # operator
    reviewed_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "campaign"
        indexes = ((("status", "ends_at"), False), (("merchant_id", "id"), False))

    @property
    def tier_list(self) -> list[dict]:
        return json.loads(self.tiers or "[]")


class CampaignParticipant(BaseModel):
    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref="participants", on_delete="CASCADE")
    merchant_id = IntegerField(index=True)
    status = CharField(max_length=16, default=PENDING)
    reason = CharField(max_length=200, default="")
    created_at = UTCDateTimeField(default=utcnow)
    reviewed_by = IntegerField(null=True)
    reviewed_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "campaign_participant"
        indexes = ((("campaign", "merchant_id"), True), (("status", "id"), False))


class CampaignItem(BaseModel):
    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref="items", on_delete="CASCADE")
    participant = ForeignKeyField(CampaignParticipant, backref="items", on_delete="CASCADE")
    merchant_id = IntegerField()
    item_id = IntegerField(index=True)
    campaign_price_fen = IntegerField()
    stock_total = IntegerField(null=True)  # None: no campaign stock of its own
    stock_left = IntegerField(null=True)
    sold = IntegerField(default=0)  # units taken by orders not given back

    class Meta:
        table_name = "campaign_item"
        indexes = ((("campaign", "item_id"), True),)


class CampaignQuota(BaseModel):
    id = AutoField()
    campaign_item = ForeignKeyField(CampaignItem, on_delete="CASCADE")
    user_id = IntegerField()
    units = IntegerField(default=0)

    class Meta:
        table_name = "campaign_quota"
        indexes = ((("campaign_item", "user_id"), True), (("user_id",), False))


class CampaignUse(BaseModel):
    id = AutoField()
    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    order_id = IntegerField(index=True)
    user_id = IntegerField(index=True)
    merchant_id = IntegerField()
    funder_merchant_id = IntegerField(null=True)  # None: the platform
    campaign_item_id = IntegerField(null=True)  # flash sale lines
    item_id = IntegerField(null=True)
    units = IntegerField(default=0)
    unit_price_fen = IntegerField(null=True)  # the campaign price charged
    amount_fen = BigIntegerField()  # the items it applied to, at campaign prices
    discount_fen = BigIntegerField()
    from_budget = BooleanField(default=False)  # its discount was taken from the budget
    released_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "campaign_use"
        indexes = ((("campaign", "order_id"), False),)


GROUP_OPEN, GROUP_SUCCEEDED, GROUP_FAILED = "open", "succeeded", "failed"
GROUP_STATUSES = (GROUP_OPEN, GROUP_SUCCEEDED, GROUP_FAILED)
SEAT_HELD, SEAT_PAID, SEAT_RELEASED = "held", "paid", "released"


class CampaignGroup(BaseModel):
    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref="groups", on_delete="CASCADE")
    campaign_item = ForeignKeyField(CampaignItem, on_delete="CASCADE")
    merchant_id = IntegerField()
    item_id = IntegerField()
    leader_user_id = IntegerField(index=True)
    group_size = IntegerField()
    seats_taken = IntegerField(default=0)  # seats held by orders not given back
    paid_count = IntegerField(default=0)  # seats whose order was paid
    status = CharField(max_length=16, default=GROUP_OPEN)
    deadline = UTCDateTimeField()  # the group fails unless it filled before
    created_at = UTCDateTimeField(default=utcnow)
    succeeded_at = UTCDateTimeField(null=True)
    failed_at = UTCDateTimeField(null=True)
    settled_at = UTCDateTimeField(null=True)  # failed: every member's order refunded or cancelled

    class Meta:
        table_name = "campaign_group"
        indexes = ((("campaign", "item_id", "status", "id"), False),
                   (("status", "deadline"), False), (("merchant_id", "id"), False))


class CampaignGroupMember(BaseModel):
    id = AutoField()
    group = ForeignKeyField(CampaignGroup, backref="members", on_delete="CASCADE")
    user_id = IntegerField(index=True)
    order_id = IntegerField(unique=True)  # the order holding the seat (the latest one)
    status = CharField(max_length=16, default=SEAT_HELD)  # held | paid | released
    joined_at = UTCDateTimeField(default=utcnow)
    paid_at = UTCDateTimeField(null=True)
    released_at = UTCDateTimeField(null=True)
    settled_at = UTCDateTimeField(null=True)  # its group failed: its order refunded or cancelled

    class Meta:
        table_name = "campaign_group_member"
        indexes = ((("group", "user_id"), True),)


def move_user_campaigns(source_id: int, target_id: int) -> int:
    """Account merge: the absorbed account's campaign purchases become the survivor's, and
    its per-user counts are added to the survivor's (one person bought them all)."""
    moved = CampaignUse.update(user_id=target_id).where(CampaignUse.user_id == source_id).execute()
    for row in list(CampaignQuota.select().where(CampaignQuota.user_id == source_id)):
        merged = (CampaignQuota.update(units=CampaignQuota.units + row.units)
                  .where(CampaignQuota.campaign_item == row.campaign_item_id,
                         CampaignQuota.user_id == target_id).execute())
        if merged:
            CampaignQuota.delete().where(CampaignQuota.id == row.id).execute()
        else:
            CampaignQuota.update(user_id=target_id).where(CampaignQuota.id == row.id).execute()
        moved += 1
    moved += (CampaignGroup.update(leader_user_id=target_id)
              .where(CampaignGroup.leader_user_id == source_id).execute())
    shared = {row.group_id for row in CampaignGroupMember.select(CampaignGroupMember.group)
              .where(CampaignGroupMember.user_id == target_id)}
    # A group both accounts sit in keeps the absorbed account's seat under its id: the seat
    # is unique per group and user, and each seat is an order of its own.
    moved += (CampaignGroupMember.update(user_id=target_id)
              .where(CampaignGroupMember.user_id == source_id,
                     CampaignGroupMember.group.not_in(list(shared) or [0])).execute())
    return moved


register_user_data("campaigns", models=(CampaignQuota, CampaignUse, CampaignGroup,
                                        CampaignGroupMember), move=move_user_campaigns,
                   erase=None)
