"""Reading cooperations: a merchant's list and one cooperation with its history, the
operators' oversight list, and what each partnership brought.

What a partnership brought is read for a whole page of cooperations at once, with one
grouped query per measure (no query per cooperation):

- coupons handed out under it (``Coupon.cooperation_id``): claimed, distinct customers,
  used in a paid order (``used``) and redeemed at a counter (``redeemed``);
- the commissions its issuer owes the partner for them: the ``CommissionEntry`` rows of
  kind ``redemption`` (its ``source_id`` is the redemption, whose ``ref_id`` is the coupon)
  and ``coupon_use`` (``"<coupon id>:<order_no>"``), not cancelled;
- the sales: the paid orders that used those coupons (a coupon is ``used`` with its
  ``order_ref`` while its order stays paid; a refund of everything paid gives it back and
  clears both), what they paid and what was refunded of it.
"""
from __future__ import annotations

import json

from peewee import JOIN, Case, fn

from alliance.clock import parse_iso, to_local_iso
from alliance.commissions.models import CommissionEntry
from alliance.coupons.models import Coupon
from alliance.cooperation.models import PROPOSED, STATUSES, Cooperation, CooperationEvent
from alliance.errors import ValidationFailed
from alliance.merchants.models import Merchant
from alliance.orders.models import Order
from alliance.paging import newest_first
from alliance.redemptions.models import Redemption

DIRECTIONS = ("incoming", "outgoing")
EMPTY_RESULTS = {"coupons_claimed": 0, "customers": 0, "coupons_used": 0,
                 "coupons_redeemed": 0, "commission_count": 0, "commission_fen": 0,
                 "orders": 0, "sales_fen": 0, "refunded_fen": 0}


def merchant_cooperations(merchant_id: int, direction: str | None, status: str | None,
                          cursor: str | None, limit: int) -> dict:
    """A merchant's cooperations, newest first: ``outgoing`` (proposed by it),
    ``incoming`` (proposed to it) or both; optionally of one status."""
    if direction == "outgoing":
        query = Cooperation.select().where(Cooperation.proposer == merchant_id)
    elif direction == "incoming":
        query = Cooperation.select().where(Cooperation.partner == merchant_id)
    else:
        query = Cooperation.select().where((Cooperation.proposer == merchant_id)
                                           | (Cooperation.partner == merchant_id))
    if status is not None:
        query = query.where(Cooperation.status == status)
    rows, next_cursor = newest_first(query, Cooperation.id, cursor, limit)
    return {"items": views(rows, merchant_id), "next_cursor": next_cursor}


def operator_cooperations(merchant_id: int | None, status: str | None, cursor: str | None,
                          limit: int) -> dict:
    """Every cooperation (of ``merchant_id`` on either side), newest first."""
    query = Cooperation.select()
    if merchant_id is not None:
        query = query.where((Cooperation.proposer == merchant_id)
                            | (Cooperation.partner == merchant_id))
    if status is not None:
        query = query.where(Cooperation.status == status)
    rows, next_cursor = newest_first(query, Cooperation.id, cursor, limit)
    return {"items": views(rows, None), "next_cursor": next_cursor}


def cooperation_detail(cooperation: Cooperation, merchant_id: int | None) -> dict:
    """One cooperation as ``merchant_id`` (None: an operator) sees it: its terms, what it
    brought and its history, oldest first."""
    view = views([cooperation], merchant_id)[0]
    events = list(CooperationEvent.select().where(CooperationEvent.cooperation == cooperation.id)
                  .order_by(CooperationEvent.id))
    names = {cooperation.proposer_id: view["proposer"]["name"],
             cooperation.partner_id: view["partner"]["name"]}
    view["history"] = [{"id": e.id, "action": e.action, "merchant_id": e.merchant_id,
                        "merchant_name": names.get(e.merchant_id),
                        "staff_user_id": e.staff_user_id, "version": e.version,
                        "terms": _local_terms(json.loads(e.terms)), "message": e.message,
                        "at": to_local_iso(e.at)} for e in events]
    return view


def views(rows: list[Cooperation], viewer_id: int | None) -> list[dict]:
    """The cooperations as ``viewer_id`` sees them, each with what it brought."""
    if not rows:
        return []
    merchant_ids = {m for row in rows for m in (row.proposer_id, row.partner_id)}
    names = dict(Merchant.select(Merchant.id, Merchant.name)
                 .where(Merchant.id.in_(merchant_ids)).tuples())
    brought = results([row.id for row in rows])
    return [_view(row, viewer_id, names, brought[row.id]) for row in rows]


def _view(row: Cooperation, viewer_id: int | None, names: dict[int, str], brought: dict) -> dict:
    view = {"id": row.id, "kind": row.kind, "status": row.status,
            "proposer": {"merchant_id": row.proposer_id, "name": names.get(row.proposer_id, "")},
            "partner": {"merchant_id": row.partner_id, "name": names.get(row.partner_id, "")},
            "turn_merchant_id": row.turn_merchant_id, "version": row.version,
            "terms": _local_terms(row.terms()), "results": brought,
            "created_at": to_local_iso(row.created_at), "updated_at": to_local_iso(row.updated_at),
            "accepted_at": to_local_iso(row.accepted_at), "closed_at": to_local_iso(row.closed_at)}
    if row.status == PROPOSED:
        view["answer_by"] = to_local_iso(row.answer_by())
    if viewer_id is not None:
        view["direction"] = "outgoing" if viewer_id == row.proposer_id else "incoming"
        view["my_turn"] = row.turn_merchant_id == viewer_id
    return view


def _local_terms(terms: dict) -> dict:
    ends_at = terms.get("ends_at")
    # Stored as naive UTC ISO text: shown in Asia/Shanghai like every time.
    return {**terms, "ends_at": to_local_iso(parse_iso(ends_at + "+00:00")) if ends_at else None}


def results(cooperation_ids: list[int]) -> dict[int, dict]:
    """What each cooperation brought (``EMPTY_RESULTS`` keys), by cooperation id."""
    found = {cid: dict(EMPTY_RESULTS) for cid in cooperation_ids}
    if not cooperation_ids:
        return found
    used = fn.SUM(Case(None, [(Coupon.status == "used", 1)], 0))
    redeemed = fn.SUM(Case(None, [(Coupon.status == "redeemed", 1)], 0))
    coupons = (Coupon.select(Coupon.cooperation_id, fn.COUNT(Coupon.id),
                             fn.COUNT(Coupon.user_id.distinct()), used, redeemed)
               .where(Coupon.cooperation_id.in_(cooperation_ids))
               .group_by(Coupon.cooperation_id).tuples())
    for cid, claimed, customers, used_count, redeemed_count in coupons:
        found[cid].update(coupons_claimed=claimed, customers=customers,
                          coupons_used=int(used_count or 0),
                          coupons_redeemed=int(redeemed_count or 0))
    for cid, count, amount in _commissions(cooperation_ids):
        found[cid].update(commission_count=count, commission_fen=int(amount or 0))
    sales = (Coupon.select(Coupon.cooperation_id, fn.COUNT(Order.id.distinct()),
                           fn.SUM(Order.paid_fen), fn.SUM(Order.refunded_fen))
             .join(Order, on=(Order.order_no == Coupon.order_ref))
             .where(Coupon.cooperation_id.in_(cooperation_ids), Coupon.status == "used",
                    Order.paid_at.is_null(False))
             .group_by(Coupon.cooperation_id).tuples())
    for cid, orders, paid, refunded in sales:
        found[cid].update(orders=orders, sales_fen=int(paid or 0), refunded_fen=int(refunded or 0))
    return found


def _commissions(cooperation_ids: list[int]):
    """(cooperation id, entries, fen) of the commissions owed for coupons handed out under
    the cooperations: read from the entries between their pairs (by the payee's index)."""
    pairs = list(Cooperation.select(Cooperation.proposer, Cooperation.partner)
                 .where(Cooperation.id.in_(cooperation_ids)).tuples())
    payers, payees = {p for p, _ in pairs}, {q for _, q in pairs}
    source = CommissionEntry.source_id
    redemption_id = source.cast("SIGNED")
    coupon_of_use = fn.SUBSTR(source, 1, fn.INSTR(source, ":") - 1)
    coupon_id = Case(CommissionEntry.source_type, [("coupon_use", coupon_of_use)],
                     Redemption.ref_id).cast("SIGNED")
    return (CommissionEntry.select(Coupon.cooperation_id, fn.COUNT(CommissionEntry.id),
                                   fn.SUM(CommissionEntry.amount_fen))
            .join(Redemption, JOIN.LEFT_OUTER,
                  on=((CommissionEntry.source_type == "redemption")
                      & (Redemption.id == redemption_id) & (Redemption.ref_type == "coupon")))
            .join(Coupon, on=(Coupon.id == coupon_id))
            .where(CommissionEntry.payee_merchant_id.in_(payees),
                   CommissionEntry.payer_merchant_id.in_(payers),
                   CommissionEntry.source_type.in_(["redemption", "coupon_use"]),
                   CommissionEntry.status != "cancelled",
                   Coupon.cooperation_id.in_(cooperation_ids))
            .group_by(Coupon.cooperation_id).tuples())


def check_filters(direction: str | None, status: str | None) -> None:
    """400 naming the field when a list filter is not one of its values."""
    if direction is not None and direction not in DIRECTIONS:
        raise ValidationFailed("参数 direction 不正确",
                               details={"field": "direction", "choices": list(DIRECTIONS)})
    if status is not None and status not in STATUSES:
        raise ValidationFailed("参数 status 不正确",
                               details={"field": "status", "choices": list(STATUSES)})
