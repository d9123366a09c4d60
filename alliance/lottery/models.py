"""The lottery tables.

A ``lottery`` is run by operators: ``draft`` (everything may change), ``active`` (consumers
draw between ``starts_at`` and ``ends_at``, UTC, ``[starts_at, ends_at)``), ``ended``. Each
draw costs ``points_cost`` points.

A ``lottery_prize`` is a coupon of a platform coupon template (``coupon``), an amount of
points (``points``) or nothing (``none``, 谢谢参与: exactly one per lottery). A draw picks a
prize with probability ``weight`` / the lottery's sum of weights. ``stock_left`` (None:
unlimited; always None for ``none``) is taken by a guarded UPDATE; a prize that cannot be
given (out of stock, or a coupon its template cannot issue to the winner) gives ``none``
instead, so the probabilities shown are the real ones.

``lottery_entrant`` counts a user's draws of a lottery (unique per lottery and user): the
total and those of ``day`` (Asia/Shanghai), taken by a guarded UPDATE against the
lottery's limits. ``lottery_draw`` is one draw (unique per user and ``request_key``, the
request's Idempotency-Key): the prize picked and the prize given, and the points entries
and coupon it wrote.
"""
from __future__ import annotations

import datetime as dt

from peewee import AutoField, CharField, DateField, ForeignKeyField, IntegerField

from alliance.accounts.merge import register_user_data
from alliance.db import BaseModel, UTCDateTimeField, utcnow

DRAFT, ACTIVE, ENDED = "draft", "active", "ended"
STATUSES = (DRAFT, ACTIVE, ENDED)
COUPON, POINTS, NONE = "coupon", "points", "none"
PRIZE_KINDS = (COUPON, POINTS, NONE)


class Lottery(BaseModel):
    id = AutoField()
    title = CharField(max_length=64)
    description = CharField(max_length=500, default="")
    points_cost = IntegerField()  # per draw
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    daily_limit = IntegerField(null=True)  # draws per user per Asia/Shanghai day; None: no limit
    total_limit = IntegerField(null=True)  # draws per user in all; None: no limit
    status = CharField(max_length=16, default=DRAFT)
    created_by = IntegerField()  # operator
    activated_at = UTCDateTimeField(null=True)
    ended_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "lottery"
        indexes = ((("status", "id"), False),)


class LotteryPrize(BaseModel):
    id = AutoField()
    lottery = ForeignKeyField(Lottery, backref="prizes", on_delete="CASCADE")
    position = IntegerField()  # the order it is shown in (and drawn over)
    kind = CharField(max_length=16)  # coupon | points | none
    name = CharField(max_length=64)
    coupon_template_id = IntegerField(null=True)  # coupon: a platform template
    points = IntegerField(null=True)  # points: the amount credited
    weight = IntegerField()
    stock_total = IntegerField(null=True)  # None: unlimited
    stock_left = IntegerField(null=True)

    class Meta:
        table_name = "lottery_prize"
        indexes = ((("lottery", "position"), True),)


class LotteryEntrant(BaseModel):
    id = AutoField()
    lottery_id = IntegerField()
    user_id = IntegerField(index=True)
    draws = IntegerField(default=0)
    day = DateField(null=True)  # the Asia/Shanghai day day_draws counts
    day_draws = IntegerField(default=0)

    class Meta:
        table_name = "lottery_entrant"
        indexes = ((("lottery_id", "user_id"), True),)


class LotteryDraw(BaseModel):
    id = AutoField()
    lottery_id = IntegerField()
    user_id = IntegerField()
    request_key = CharField(max_length=128)
    picked_prize_id = IntegerField(null=True)  # what the random pick chose
    prize_id = IntegerField(null=True)  # what was given (``none`` when picked could not be)
    prize_kind = CharField(max_length=16, default="")
    prize_name = CharField(max_length=64, default="")
    points_cost = IntegerField()
    points_awarded = IntegerField(default=0)
    coupon_id = IntegerField(null=True)
    spend_entry_id = IntegerField(null=True)  # the points entry of the cost
    award_entry_id = IntegerField(null=True)  # the points entry of a points prize
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "lottery_draw"
        indexes = ((("user_id", "request_key"), True), (("user_id", "id"), False),
                   (("lottery_id", "prize_id"), False), (("lottery_id", "id"), False))


def move_user_lottery(source_id: int, target_id: int) -> int:
    """Account merge: the absorbed account's draws become the survivor's (a request key
    both used keeps the absorbed one's under a prefix), and its counts are added to the
    survivor's (one person drew them all; on different days, the later day's count holds)."""
    moved = 0
    taken = {key for (key,) in LotteryDraw.select(LotteryDraw.request_key)
             .where(LotteryDraw.user_id == target_id).tuples()}
    for draw in LotteryDraw.select(LotteryDraw.id, LotteryDraw.request_key).where(
            LotteryDraw.user_id == source_id):
        key = draw.request_key
        if key in taken:
            key = f"merged-{source_id}:{key}"[:128]
        moved += (LotteryDraw.update(user_id=target_id, request_key=key)
                  .where(LotteryDraw.id == draw.id).execute())
    for row in list(LotteryEntrant.select().where(LotteryEntrant.user_id == source_id)):
        mine = LotteryEntrant.get_or_none(LotteryEntrant.lottery_id == row.lottery_id,
                                          LotteryEntrant.user_id == target_id)
        if mine is None:
            LotteryEntrant.update(user_id=target_id).where(LotteryEntrant.id == row.id).execute()
        else:
            same_day = mine.day == row.day
            later = max((mine, row), key=lambda e: e.day or dt.date.min)
            (LotteryEntrant.update(
                draws=LotteryEntrant.draws + row.draws, day=later.day,
                day_draws=mine.day_draws + row.day_draws if same_day else later.day_draws)
             .where(LotteryEntrant.id == mine.id).execute())
            LotteryEntrant.delete().where(LotteryEntrant.id == row.id).execute()
        moved += 1
    return moved


register_user_data("lottery", models=(LotteryEntrant, LotteryDraw), move=move_user_lottery,
                   erase=None)
