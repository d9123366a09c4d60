"""Reads of lotteries: the operators' list and detail with results, what consumers see of
a lottery (each prize's real probability now and what is left), and draws."""
from __future__ import annotations

import datetime as dt

from peewee import fn

from alliance.analytics.rollups import local_day
from alliance.clock import to_local_iso
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.coupons.rules import claim_open
from alliance.coupons.views import coupon_view, template_view
from alliance.db import utcnow
from alliance.lottery.errors import LotteryNotFound
from alliance.lottery.models import (ACTIVE, COUPON, DRAFT, ENDED, NONE, Lottery, LotteryDraw,
                                     LotteryEntrant, LotteryPrize)
from alliance.lottery.services import get_lottery
from alliance.paging import newest_first
from alliance.points.models import PointsEntry


def state(lottery: Lottery, now: dt.datetime) -> str:
    """draft, upcoming, running or ended: where ``now`` lies for the lottery."""
    if lottery.status == DRAFT:
        return DRAFT
    if lottery.status == ENDED or lottery.ends_at <= now:
        return ENDED
    return "upcoming" if now < lottery.starts_at else "running"


def _share(weight: int, total: int) -> float:
    return round(weight / total, 6) if total else 0.0


def _prizes(lottery_ids: list[int]) -> dict[int, list[LotteryPrize]]:
    found: dict[int, list[LotteryPrize]] = {i: [] for i in lottery_ids}
    for prize in (LotteryPrize.select().where(LotteryPrize.lottery.in_(lottery_ids))
                  .order_by(LotteryPrize.lottery, LotteryPrize.position)):
        found[prize.lottery_id].append(prize)
    return found


def _templates(prizes: list[LotteryPrize]) -> dict[int, CouponTemplate]:
    ids = {p.coupon_template_id for p in prizes if p.kind == COUPON}
    return {t.id: t for t in CouponTemplate.select().where(CouponTemplate.id.in_(list(ids)))} \
        if ids else {}


def _lottery_view(lottery: Lottery, now: dt.datetime) -> dict:
    return {"id": lottery.id, "title": lottery.title, "description": lottery.description,
            "points_cost": lottery.points_cost, "starts_at": to_local_iso(lottery.starts_at),
            "ends_at": to_local_iso(lottery.ends_at), "daily_limit": lottery.daily_limit,
            "total_limit": lottery.total_limit, "state": state(lottery, now)}


# -- operators ------------------------------------------------------------------------------

def _admin_prize(prize: LotteryPrize, total: int, template: CouponTemplate | None,
                 awarded: int, picked: int) -> dict:
    return {"id": prize.id, "position": prize.position, "kind": prize.kind, "name": prize.name,
            "coupon_template_id": prize.coupon_template_id,
            "coupon_template_name": template.name if template is not None else None,
            "points": prize.points, "weight": prize.weight,
            "probability": _share(prize.weight, total), "stock_total": prize.stock_total,
            "stock_left": prize.stock_left, "picked": picked, "awarded": awarded}


def _admin_view(lottery: Lottery, prizes: list[LotteryPrize], now: dt.datetime,
                totals: dict) -> dict:
    return {**_lottery_view(lottery, now), "status": lottery.status,
            "created_by": lottery.created_by, "created_at": to_local_iso(lottery.created_at),
            "updated_at": to_local_iso(lottery.updated_at),
            "activated_at": to_local_iso(lottery.activated_at),
            "ended_at": to_local_iso(lottery.ended_at),
            "prize_count": len(prizes), "draws": totals.get("draws", 0),
            "points_taken": totals.get("points_taken", 0)}


def _totals(lottery_ids: list[int]) -> dict[int, dict]:
    rows = (LotteryDraw.select(LotteryDraw.lottery_id, fn.COUNT(LotteryDraw.id),
                               fn.SUM(LotteryDraw.points_cost))
            .where(LotteryDraw.lottery_id.in_(lottery_ids))
            .group_by(LotteryDraw.lottery_id).tuples()) if lottery_ids else []
    return {lottery_id: {"draws": count, "points_taken": int(cost or 0)}
            for lottery_id, count, cost in rows}


def admin_lotteries(status: str | None, cursor: str | None, limit: int,
                    now: dt.datetime | None = None) -> dict:
    """Every lottery, newest first, with its draws and the points they took."""
    now = now or utcnow()
    query = Lottery.select()
    if status is not None:
        query = query.where(Lottery.status == status)
    rows, next_cursor = newest_first(query, Lottery.id, cursor, limit)
    ids = [lottery.id for lottery in rows]
    prizes, totals = _prizes(ids), _totals(ids)
    return {"items": [_admin_view(lottery, prizes[lottery.id], now, totals.get(lottery.id, {}))
                      for lottery in rows], "next_cursor": next_cursor}


def admin_lottery(lottery_id: int, now: dt.datetime | None = None) -> dict:
    """A lottery with its prizes and results: draws, people, points taken and given, and
    per prize how often it was picked and given (a picked prize that could not be given
    gave 谢谢参与)."""
    now = now or utcnow()
    lottery = get_lottery(lottery_id)
    prizes = _prizes([lottery.id])[lottery.id]
    templates = _templates(prizes)
    mine = LotteryDraw.lottery_id == lottery.id
    awarded = dict(LotteryDraw.select(LotteryDraw.prize_id, fn.COUNT(LotteryDraw.id))
                   .where(mine).group_by(LotteryDraw.prize_id).tuples())
    picked = dict(LotteryDraw.select(LotteryDraw.picked_prize_id, fn.COUNT(LotteryDraw.id))
                  .where(mine).group_by(LotteryDraw.picked_prize_id).tuples())
    draws, taken, given, people = (LotteryDraw.select(
        fn.COUNT(LotteryDraw.id), fn.SUM(LotteryDraw.points_cost),
        fn.SUM(LotteryDraw.points_awarded), fn.COUNT(LotteryDraw.user_id.distinct()))
        .where(mine).tuples().get())
    total = sum(p.weight for p in prizes)
    return {**_admin_view(lottery, prizes, now, {"draws": draws, "points_taken": int(taken or 0)}),
            "entrants": people, "points_awarded": int(given or 0),
            "coupons_awarded": sum(awarded.get(p.id, 0) for p in prizes if p.kind == COUPON),
            "prizes": [_admin_prize(p, total, templates.get(p.coupon_template_id),
                                    awarded.get(p.id, 0), picked.get(p.id, 0)) for p in prizes]}


def admin_draws(lottery_id: int, cursor: str | None, limit: int) -> dict:
    """A lottery's draws, newest first: who drew, what was picked and what was given."""
    get_lottery(lottery_id)
    rows, next_cursor = newest_first(
        LotteryDraw.select().where(LotteryDraw.lottery_id == lottery_id), LotteryDraw.id,
        cursor, limit)
    return {"items": [{**_draw_fields(d), "user_id": d.user_id,
                       "picked_prize_id": d.picked_prize_id,
                       "fell_back": d.picked_prize_id != d.prize_id} for d in rows],
            "next_cursor": next_cursor}


# -- consumers ------------------------------------------------------------------------------

def _givable(prize: LotteryPrize, template: CouponTemplate | None, held: dict[int, int],
             now: dt.datetime) -> bool:
    """Whether a draw picking ``prize`` now would give it (to a viewer holding ``held``
    coupons per template)."""
    if prize.kind == NONE:
        return True
    if prize.stock_left is not None and prize.stock_left <= 0:
        return False
    if prize.kind != COUPON:
        return True
    return (template is not None and claim_open(template, now)
            and held.get(template.id, 0) < template.per_user_limit)


def _remaining(prize: LotteryPrize, template: CouponTemplate | None) -> int | None:
    if prize.kind != COUPON:
        return prize.stock_left
    left = max(0, template.total_stock - template.issued) if template is not None else 0
    return min(left, max(0, prize.stock_left or 0))


def _consumer_view(lottery: Lottery, prizes: list[LotteryPrize], viewer_id: int | None,
                   now: dt.datetime) -> dict:
    """What a consumer sees: each prize's probability now (weight / sum; a prize that
    cannot be given, out of stock or a coupon the viewer cannot have more of, counts as
    谢谢参与, as a draw would give it), what is left, and the viewer's draws."""
    templates = _templates(prizes)
    held = dict(Coupon.select(Coupon.template, fn.COUNT(Coupon.id))
                .where(Coupon.user_id == viewer_id, Coupon.template.in_(list(templates)))
                .group_by(Coupon.template).tuples()) if viewer_id and templates else {}
    total = sum(p.weight for p in prizes)
    lost = sum(p.weight for p in prizes
               if not _givable(p, templates.get(p.coupon_template_id), held, now))
    shown = []
    for prize in prizes:
        template = templates.get(prize.coupon_template_id)
        givable = _givable(prize, template, held, now)
        weight = prize.weight + lost if prize.kind == NONE else prize.weight if givable else 0
        shown.append({"id": prize.id, "kind": prize.kind, "name": prize.name,
                      "points": prize.points, "probability": _share(weight, total),
                      "remaining": _remaining(prize, template),
                      "coupon_template": template_view(template) if template else None})
    return {**_lottery_view(lottery, now), "prizes": shown,
            "me": _me(lottery, viewer_id, now) if viewer_id else None}


def _me(lottery: Lottery, user_id: int, now: dt.datetime) -> dict:
    entrant = LotteryEntrant.get_or_none(LotteryEntrant.lottery_id == lottery.id,
                                         LotteryEntrant.user_id == user_id)
    total = entrant.draws if entrant else 0
    today = entrant.day_draws if entrant and entrant.day == local_day(now) else 0
    left = [limit - used for limit, used in ((lottery.daily_limit, today),
                                             (lottery.total_limit, total)) if limit is not None]
    account_left = min(left) if left else None
    return {"draws_today": today, "draws_total": total,
            "draws_left_today": None if account_left is None else max(0, account_left),
            "can_draw": state(lottery, now) == "running" and (account_left is None
                                                              or account_left > 0)}


def open_lotteries(viewer_id: int | None, cursor: str | None, limit: int,
                   now: dt.datetime | None = None) -> dict:
    """The lotteries consumers can see now (active, running or upcoming), newest first."""
    now = now or utcnow()
    rows, next_cursor = newest_first(
        Lottery.select().where(Lottery.status == ACTIVE, Lottery.ends_at > now), Lottery.id,
        cursor, limit)
    prizes = _prizes([lottery.id for lottery in rows])
    return {"items": [_consumer_view(lottery, prizes[lottery.id], viewer_id, now)
                      for lottery in rows], "next_cursor": next_cursor}


def public_lottery(lottery_id: int, viewer_id: int | None,
                   now: dt.datetime | None = None) -> dict:
    """One lottery as consumers see it (an ended one too; a draft is LOTTERY_NOT_FOUND)."""
    now = now or utcnow()
    lottery = Lottery.get_or_none(Lottery.id == lottery_id)
    if lottery is None or lottery.status == DRAFT:
        raise LotteryNotFound(details={"lottery_id": lottery_id})
    return _consumer_view(lottery, _prizes([lottery.id])[lottery.id], viewer_id, now)


def _draw_fields(draw: LotteryDraw) -> dict:
    return {"id": draw.id, "lottery_id": draw.lottery_id, "prize_id": draw.prize_id,
            "prize_kind": draw.prize_kind, "prize_name": draw.prize_name,
            "won": draw.prize_kind != NONE, "points_cost": draw.points_cost,
            "points_awarded": draw.points_awarded, "coupon_id": draw.coupon_id,
            "created_at": to_local_iso(draw.created_at)}


def _draw_views(draws: list[LotteryDraw]) -> list[dict]:
    titles = dict(Lottery.select(Lottery.id, Lottery.title)
                  .where(Lottery.id.in_({d.lottery_id for d in draws})).tuples()) if draws else {}
    coupon_ids = [d.coupon_id for d in draws if d.coupon_id]
    coupons = {c.id: c for c in Coupon.select(Coupon, CouponTemplate).join(CouponTemplate)
               .where(Coupon.id.in_(coupon_ids))} if coupon_ids else {}
    return [{**_draw_fields(d), "lottery_title": titles.get(d.lottery_id, ""),
             "coupon": coupon_view(coupons[d.coupon_id]) if d.coupon_id in coupons else None}
            for d in draws]


def draw_answer(draw: LotteryDraw) -> dict:
    """The answer to a draw (the same for its repeats): the prize, the coupon it gave, and
    the points balance the draw left."""
    last = draw.award_entry_id or draw.spend_entry_id
    balance = (PointsEntry.select(PointsEntry.balance_after).where(PointsEntry.id == last)
               .scalar() if last else None)
    return {**_draw_views([draw])[0], "points_balance": balance}


def my_draws(user_id: int, lottery_id: int | None, cursor: str | None, limit: int) -> dict:
    """The user's own draws, newest first (of one lottery when given)."""
    query = LotteryDraw.select().where(LotteryDraw.user_id == user_id)
    if lottery_id is not None:
        query = query.where(LotteryDraw.lottery_id == lottery_id)
    rows, next_cursor = newest_first(query, LotteryDraw.id, cursor, limit)
    return {"items": _draw_views(rows), "next_cursor": next_cursor}

