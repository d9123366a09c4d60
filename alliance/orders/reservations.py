"""What an order holds while it lives: stock, points, coupon and campaign stock, taken at checkout and given
back when it is cancelled or refunded. Every move is a guarded UPDATE (or the points
ledger's idempotent post) inside the caller's transaction, so it happens once."""
from __future__ import annotations

import json

from alliance.campaigns.checkout import release as release_campaigns
from alliance.campaigns.groups import release_seat
from alliance.db import utcnow
from alliance.catalog.stock import return_stock, take_stock
from alliance.coupons.checkout import release_coupons
from alliance.orders.models import Order, OrderLine
from alliance.points.models import PointsEntry
from alliance.points import services as points


def points_key(order: Order) -> str:
    return f"order:{order.order_no}:points"


def reserve(order: Order, lines: list[OrderLine]) -> PointsEntry | None:
    """Take the lines' stock (in item order: one lock order, no deadlocks) and the points;
    the points' debit (None when the order uses none)."""
    for line in sorted(lines, key=lambda x: x.item_id):
        take_stock(line.item_id, line.quantity)
    if not order.points_used:
        return None
    return points.spend(order.user_id, order.points_used, merchant_id=order.merchant_id,
                        idempotency_key=points_key(order), ref_type="order",
                        ref_id=order.order_no, memo="订单积分抵扣").entry


def restock(order: Order, quantities: dict[int, int]) -> int:
    """Put back up to ``quantities`` ({line_id: units}) not yet returned; units put back."""
    returned = 0
    for line in sorted(OrderLine.select().where(OrderLine.order == order.id),
                       key=lambda x: x.item_id):
        wanted = min(quantities.get(line.id, 0), line.quantity - line.returned_quantity)
        if wanted <= 0:
            continue
        moved = (OrderLine.update(returned_quantity=OrderLine.returned_quantity + wanted)
                 .where(OrderLine.id == line.id,
                        OrderLine.returned_quantity + wanted <= OrderLine.quantity).execute())
        if moved:
            return_stock(line.item_id, wanted)
            returned += wanted
    return returned


def all_units(order: Order) -> dict[int, int]:
    return {line.id: line.quantity for line in OrderLine.select().where(OrderLine.order == order.id)}


def parse_units(text: str) -> dict[int, int]:
    return {int(k): int(v) for k, v in json.loads(text or "{}").items()}


def release_points(order: Order) -> None:
    """Give back the points the order spent (once, whatever calls it twice)."""
    if order.points_used:
        points.refund_spend(points_key(order), idempotency_key=f"{points_key(order)}:release",
                            memo="订单取消或退款，积分退回")


def release_all(order: Order) -> None:
    """An order that will never be paid: its stock, points, coupons and campaign stock (and
    the buyer's campaign quota, and its seat in a group buy's group) come back."""
    restock(order, all_units(order))
    release_points(order)
    release_coupons(order.order_no)
    if order.campaign_discount_fen:
        now = utcnow()
        release_campaigns(order.id, now)
        release_seat(order.id, now)
