"""A consumer's draw: the points, the pick, the prize and the record, in one transaction.

1. The draw row is inserted first, under the request's key (unique per user): a repeat of
   the request, even one racing the first, finds it and answers it, spending nothing.
2. The user's counts are taken by one guarded UPDATE that also checks the lottery is
   active and inside its window (on InnoDB it holds the lottery row shared, so an
   operator's end waits for the draws under way, and no draw commits after it): the
   daily and total limits hold under any concurrency (LOTTERY_DAILY_LIMIT_REACHED,
   LOTTERY_TOTAL_LIMIT_REACHED, LOTTERY_NOT_STARTED, LOTTERY_ENDED).
3. The cost is spent from the points ledger under the draw's key (POINTS_INSUFFICIENT
   undoes everything).
4. A prize is picked with ``secrets`` over every prize by weight, as shown to consumers.
   A limited prize's stock is taken by a guarded UPDATE (``stock_left > 0``); a coupon is
   issued by the coupons' own issuing code (its template's stock, window and per-user limit
   hold); points are earned through the ledger. A prize that cannot be given (out of stock,
   or a coupon the winner cannot have) gives the lottery's ``none`` prize (谢谢参与)
   instead, its savepoint undoing whatever it had taken: never a second pick, so no prize
   is ever likelier than the probability shown, which counts such prizes as ``none``.

Locks are taken in one order (the user's draw and counts, the user's points, one prize,
one coupon template), so concurrent draws queue and never deadlock.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.analytics.rollups import local_day
from alliance.clock import to_local_iso
from alliance.coupons import claims
from alliance.coupons.errors import (CouponLimitReached, CouponNotClaimable, CouponSoldOut,
                                     CouponTemplateNotFound)
from alliance.db import connection, single_write, transaction, utcnow
from alliance.infra.idempotency import IdempotencyKeyReused
from alliance.lottery.errors import (LotteryDailyLimitReached, LotteryEnded, LotteryNotFound,
                                     LotteryNotStarted, LotteryTotalLimitReached)
from alliance.lottery.models import (ACTIVE, COUPON, ENDED, NONE, POINTS, Lottery, LotteryDraw,
                                     LotteryEntrant, LotteryPrize)
from alliance.points import services as points
from alliance.ports import Notifier

CHANNEL = "lottery"  # the issued coupons' channel (their source)
LEDGER_REF = "lottery_draw"  # the points entries' ref_type; ref_id is the draw's id
_UNGIVABLE = (CouponSoldOut, CouponLimitReached, CouponNotClaimable, CouponTemplateNotFound)


class _Ungivable(Exception):
    """The picked prize cannot be given now; its savepoint is rolled back."""


@dataclass(frozen=True)
class Drawn:
    draw: LotteryDraw
    replayed: bool  # True: the request's key had drawn already


def pick(prizes: list[LotteryPrize]) -> LotteryPrize:
    """One of ``prizes`` (in their order), each with probability weight / sum of weights,
    from the operating system's secure random source."""
    ticket = secrets.randbelow(sum(p.weight for p in prizes))
    for prize in prizes:
        if ticket < prize.weight:
            return prize
        ticket -= prize.weight
    raise AssertionError("the ticket lies within the weights")


def open_lottery(lottery_id: int, now: dt.datetime) -> Lottery:
    """The lottery when consumers may draw it now: LOTTERY_NOT_FOUND for a draft,
    LOTTERY_NOT_STARTED before its start, LOTTERY_ENDED once ended."""
    lottery = Lottery.get_or_none(Lottery.id == lottery_id)
    if lottery is None or lottery.status not in (ACTIVE, ENDED):
        raise LotteryNotFound(details={"lottery_id": lottery_id})
    if lottery.status != ACTIVE or lottery.ends_at <= now:
        raise LotteryEnded(details={"lottery_id": lottery_id})
    if now < lottery.starts_at:
        raise LotteryNotStarted(details={"lottery_id": lottery_id,
                                         "starts_at": to_local_iso(lottery.starts_at)})
    return lottery


def draw(lottery_id: int, user_id: int, request_key: str, notifier: Notifier | None = None,
         now: dt.datetime | None = None) -> Drawn:
    """Draw once: spend the lottery's cost, give a prize, record it (see the module); a
    winner is told what they won (``lottery.won``, with the draw). The same ``request_key``
    again answers the first draw and spends nothing; the key used for another lottery is
    IDEMPOTENCY_KEY_REUSED."""
    now = now or utcnow()
    with connection():
        earlier = _drawn(user_id, request_key, lottery_id)
        if earlier is not None:
            return earlier
        lottery = open_lottery(lottery_id, now)
        prizes = list(LotteryPrize.select().where(LotteryPrize.lottery == lottery.id)
                      .order_by(LotteryPrize.position))
        if not LotteryEntrant.select().where(LotteryEntrant.lottery_id == lottery.id,
                                             LotteryEntrant.user_id == user_id).exists():
            # Its own statement, before the draw's transaction: that one then only updates
            # the row (two first draws inserting it there would deadlock on InnoDB).
            with single_write():
                (LotteryEntrant.insert(lottery_id=lottery.id, user_id=user_id)
                 .on_conflict_ignore().execute())
        try:
            with transaction():
                record = LotteryDraw.create(lottery_id=lottery.id, user_id=user_id,
                                            request_key=request_key,
                                            points_cost=lottery.points_cost, created_at=now)
                _count(lottery, user_id, now)
                spent = points.spend(user_id, lottery.points_cost, merchant_id=None,
                                     idempotency_key=f"lottery:{record.id}",
                                     ref_type=LEDGER_REF, ref_id=str(record.id),
                                     memo=f"积分抽奖：{lottery.title}", now=now)
                picked = pick(prizes)
                given, awarded = _give(lottery, picked, record.id, user_id, now)
                if given is None:
                    given, awarded = next(p for p in prizes if p.kind == NONE), {}
                (LotteryDraw.update(picked_prize_id=picked.id, prize_id=given.id,
                                    prize_kind=given.kind, prize_name=given.name,
                                    spend_entry_id=spent.entry.id, **awarded)
                 .where(LotteryDraw.id == record.id).execute())
                if given.kind != NONE and notifier is not None:
                    notifier.notify("lottery.won", user_id=user_id,
                                    data={"draw_id": record.id, "lottery_id": lottery.id,
                                          "lottery_title": lottery.title,
                                          "prize_name": given.name,
                                          "won_at": to_local_iso(now)},
                                    dedupe_key=f"lottery.won:{record.id}")
                return Drawn(LotteryDraw.get_by_id(record.id), False)
        except IntegrityError:
            earlier = _drawn(user_id, request_key, lottery_id)
            if earlier is None:
                raise
            return earlier


def _drawn(user_id: int, request_key: str, lottery_id: int) -> Drawn | None:
    """The draw the user already made under ``request_key``, if any."""
    earlier = LotteryDraw.get_or_none(LotteryDraw.user_id == user_id,
                                      LotteryDraw.request_key == request_key)
    if earlier is None:
        return None
    if earlier.lottery_id != lottery_id:
        raise IdempotencyKeyReused(details={"header": "Idempotency-Key"})
    return Drawn(earlier, True)


def _count(lottery: Lottery, user_id: int, now: dt.datetime) -> None:
    """Take one of the user's draws of today and in all, by a guarded UPDATE that also
    requires the lottery to be active and running now; the refusal says which failed."""
    today = local_day(now)
    mine = (LotteryEntrant.lottery_id == lottery.id) & (LotteryEntrant.user_id == user_id)
    (LotteryEntrant.update(day=today, day_draws=0)
     .where(mine, LotteryEntrant.day.is_null() | (LotteryEntrant.day != today)).execute())
    guards = [mine, Lottery.select(Lottery.id).where(
        Lottery.id == lottery.id, Lottery.status == ACTIVE, Lottery.starts_at <= now,
        Lottery.ends_at > now).exists()]
    if lottery.daily_limit is not None:
        guards.append(LotteryEntrant.day_draws < lottery.daily_limit)
    if lottery.total_limit is not None:
        guards.append(LotteryEntrant.draws < lottery.total_limit)
    taken = (LotteryEntrant.update(draws=LotteryEntrant.draws + 1,
                                   day_draws=LotteryEntrant.day_draws + 1)
             .where(*guards).execute())
    if taken:
        return
    open_lottery(lottery.id, now)  # ended (or paused) meanwhile: say so
    entrant = LotteryEntrant.get(mine)
    if lottery.total_limit is not None and entrant.draws >= lottery.total_limit:
        raise LotteryTotalLimitReached(details={"total_limit": lottery.total_limit})
    raise LotteryDailyLimitReached(details={"daily_limit": lottery.daily_limit})


def _give(lottery: Lottery, prize: LotteryPrize, draw_id: int, user_id: int,
          now: dt.datetime) -> tuple[LotteryPrize | None, dict]:
    """Give ``prize``: (it, the draw's fields of what it gave), or (None, {}) when it cannot
    be given, having taken nothing (its savepoint rolled back)."""
    if prize.kind == NONE:
        return prize, {}
    try:
        with transaction():  # a savepoint inside the draw's
            if prize.stock_left is not None and not (
                    LotteryPrize.update(stock_left=LotteryPrize.stock_left - 1)
                    .where(LotteryPrize.id == prize.id, LotteryPrize.stock_left > 0)
                    .execute()):
                raise _Ungivable()
            if prize.kind == COUPON:
                try:
                    coupon = claims.award(prize.coupon_template_id, user_id, now,
                                          channel=CHANNEL)
                except _UNGIVABLE:
                    raise _Ungivable() from None
                return prize, {"coupon_id": coupon.id}
            assert prize.kind == POINTS
            earned = points.earn(user_id, prize.points, merchant_id=None,
                                 idempotency_key=f"lottery:{draw_id}:prize",
                                 ref_type=LEDGER_REF, ref_id=str(draw_id),
                                 memo=f"积分抽奖中奖：{lottery.title}", now=now)
            return prize, {"points_awarded": prize.points, "award_entry_id": earned.entry.id}
    except _Ungivable:
        return None, {}
