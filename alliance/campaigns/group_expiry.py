"""Group buys that did not fill in time: failed, their paid orders refunded in full and their
unpaid ones cancelled (the scheduler's ``campaigns.fail_expired_groups``).

A group is due when its deadline (or its campaign's end, an early end included) has come
while it is still open. ``fail_expired_groups`` moves each ``open -> failed`` by a guarded
UPDATE (a payment filling it at the same moment takes the group's row first, or finds it
failed and leaves its order to this job), then settles every failed group not yet settled,
one member per transaction:
  - an unpaid order's trades are closed (one found paid is applied, and refunded at the
    next member pass) and the order cancelled by the guarded ``pending_payment ->
    cancelled``, which gives its stock, quota, campaign stock and seat back;
  - a paid order's seat is stamped ``settled_at`` by a guarded UPDATE and, in that
    transaction, its refund of everything paid started through the orders' refund flow
    (submitted to the provider after commit; ``refunds.refresh`` submits what a crash left
    pending), its campaign stock, quota and budget given back (nothing was sold).
So each order is refunded or cancelled once however often, and in however many processes,
the job runs; a group is ``settled_at`` once no member is left to settle.
"""
from __future__ import annotations

import datetime as dt

from alliance.campaigns import checkout as campaign_checkout
from alliance.campaigns.models import (GROUP_FAILED, GROUP_OPEN, SEAT_HELD, SEAT_PAID, Campaign,
                                       CampaignGroup, CampaignGroupMember)
from alliance.catalog.models import CatalogItem
from alliance.db import transaction, utcnow
from alliance.errors import Conflict
from alliance.orders import lifecycle, refunds
from alliance.orders.context import OrderContext
from alliance.orders.models import PENDING_PAYMENT, REFUND_GROUP_FAILED, REFUNDABLE, Order

GROUP_FAILED_REASON = "group_failed"


def fail_expired_groups(octx: OrderContext, now: dt.datetime | None = None,
                        limit: int = 100) -> dict[str, int]:
    """For the scheduler: fail the open groups past their deadline, and refund or cancel
    the orders of every failed group not yet settled. Idempotent and safe to run from two
    processes at once."""
    now = now or utcnow()
    counts = {"failed": 0, "refunded": 0, "cancelled": 0}
    due = (CampaignGroup.select(CampaignGroup.id).join(Campaign)
           .where(CampaignGroup.status == GROUP_OPEN,
                  (CampaignGroup.deadline <= now) | (Campaign.ends_at <= now))
           .order_by(CampaignGroup.id).limit(limit))
    for group in list(due):
        with transaction():
            counts["failed"] += (CampaignGroup.update(status=GROUP_FAILED, failed_at=now)
                                 .where(CampaignGroup.id == group.id,
                                        CampaignGroup.status == GROUP_OPEN).execute())
    unsettled = (CampaignGroup.select().where(CampaignGroup.status == GROUP_FAILED,
                                              CampaignGroup.settled_at.is_null())
                 .order_by(CampaignGroup.id).limit(limit))
    for group in list(unsettled):
        _settle(octx, group, now, counts)
    return counts


def _settle(octx: OrderContext, group: CampaignGroup, now: dt.datetime,
            counts: dict[str, int]) -> None:
    item_name = (CatalogItem.select(CatalogItem.name).where(CatalogItem.id == group.item_id)
                 .scalar()) or ""
    left = 0
    for seat in list(_unsettled_seats(group.id)):
        order = Order.get_by_id(seat.order_id)
        if order.status == PENDING_PAYMENT:
            outcome = lifecycle.cancel_unpaid(
                octx, order, GROUP_FAILED_REASON, now,
                effects=lambda cancelled: _tell(octx, cancelled, group, item_name, 0))
            if outcome:
                counts["cancelled"] += 1
            elif outcome is None:  # paid after all: refunded below, at this run or the next
                left += 1
        elif order.status in REFUNDABLE:  # paid (the seat may have been read before it was)
            if _refund(octx, seat, order, group, item_name, now):
                counts["refunded"] += 1
        else:  # nothing left to give back (refunded or cancelled otherwise): final states
            with transaction():
                (CampaignGroupMember.update(settled_at=now)
                 .where(CampaignGroupMember.id == seat.id,
                        CampaignGroupMember.settled_at.is_null()).execute())
    if left == 0 and not _unsettled_seats(group.id).exists():
        with transaction():
            (CampaignGroup.update(settled_at=now)
             .where(CampaignGroup.id == group.id, CampaignGroup.settled_at.is_null()).execute())


def _unsettled_seats(group_id: int):
    """Seats whose order is still to be cancelled (held) or refunded (paid, not stamped)."""
    return (CampaignGroupMember.select()
            .where(CampaignGroupMember.group == group_id,
                   CampaignGroupMember.status.in_([SEAT_HELD, SEAT_PAID]),
                   CampaignGroupMember.settled_at.is_null())
            .order_by(CampaignGroupMember.id))


def _refund(octx: OrderContext, seat: CampaignGroupMember, order: Order, group: CampaignGroup,
            item_name: str, now: dt.datetime) -> bool:
    """Refund everything the member paid, once: True for the caller that started it."""
    with transaction():
        stamped = (CampaignGroupMember.update(settled_at=now)
                   .where(CampaignGroupMember.id == seat.id,
                          CampaignGroupMember.settled_at.is_null()).execute())
        if not stamped:
            return False
        order = Order.get_by_id(order.id)
        amount = refunds.refundable_fen(order)
        if amount <= 0 or order.status not in REFUNDABLE:
            return False
        try:
            refunds.start_refund(octx, order, amount, kind=REFUND_GROUP_FAILED,
                                 reason="拼团失败，自动退款", now=now)
        except Conflict:  # a refund of it in flight (an operator's): the seat stays to settle
            (CampaignGroupMember.update(settled_at=None)
             .where(CampaignGroupMember.id == seat.id).execute())
            return False
        campaign_checkout.release(order.id, now)
        _tell(octx, order, group, item_name, amount)
    return True


def _tell(octx: OrderContext, order: Order, group: CampaignGroup, item_name: str,
          refund_fen: int) -> None:
    octx.notifier.notify("group_buy.failed", user_id=order.user_id,
                         data={"order_no": order.order_no, "group_id": group.id,
                               "item_name": item_name, "refund_fen": refund_fen},
                         dedupe_key=f"group_buy.failed:{order.order_no}")
