"""Group buys (团购) in an order's life: a seat taken with the order, given back when it will
never be paid, counted when it is paid, and the group's success.

A consumer starts a group of a running group buy's item, or joins an open group, by placing
an order of that item at the group price (``plan_group`` before, ``take_seat`` in the
order's transaction, after the campaign stock and quota were taken as a flash sale's are).
Joining is one guarded UPDATE of the group's row (``seats_taken < group_size``, open, before
its deadline), so a rush never seats more than ``group_size``; the seat is a
``campaign_group_member`` row, unique per group and user (GROUP_ALREADY_JOINED). An order
cancelled or closed unpaid gives its seat back once (``release_seat``, behind the seat's
guarded ``held -> released``), and its user may take a seat again.

A paid order marks its seat paid and adds one to ``paid_count`` in the payment's
transaction (``on_member_paid``); the payment that brings it to ``group_size`` moves the
group ``open -> succeeded`` by a guarded UPDATE (the group's row makes the payments of one
group take turns, so two last payments at once succeed it once). Until then a paid group
order waits (``waiting``): it is neither confirmed, shipped nor refunded but by the group's
failure, and a service order gets its code only at the success. A group that did not fill
by its deadline fails: ``alliance.campaigns.group_expiry``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.campaigns.errors import (GroupAlreadyJoined, GroupBuyUnavailable, GroupClosed,
                                       GroupFull, GroupNotFound, GroupPending)
from alliance.campaigns.models import (APPROVED, GROUP_BUY, GROUP_OPEN, GROUP_SUCCEEDED,
                                       SEAT_HELD, SEAT_PAID, SEAT_RELEASED, Campaign,
                                       CampaignGroup, CampaignGroupMember, CampaignItem,
                                       CampaignParticipant)
from alliance.campaigns.pricing import FlashOffer, running_now
from alliance.orders.errors import OrderItemsInvalid
from alliance.catalog.models import CatalogItem
from alliance.db import is_mysql
from alliance.orders.models import PAID, SERVICE, SERVICE_ISSUED, Order
from alliance.orders.service_codes import issue_service_code
from alliance.ports import Notifier


@dataclass(frozen=True)
class GroupRequest:
    """What an order asks: start a group of ``campaign_id``, or join ``group_id``."""

    campaign_id: int | None = None
    group_id: int | None = None


@dataclass(frozen=True)
class GroupPlan:
    """The group price an order gets, and the seat it will take."""

    offer: FlashOffer
    group_size: int
    deadline: dt.datetime  # the group's (a new group's: now + group_hours, cut at the end)
    group_id: int | None  # None: the order starts a group


def _offer(campaign_id: int, item_id: int, price_fen: int,
           now: dt.datetime) -> tuple[FlashOffer, Campaign]:
    """The running group buy's price of the item (read now, not from the running snapshot:
    group prices never apply to orders that do not ask for them)."""
    row = (CampaignItem.select(CampaignItem, Campaign)
           .join(Campaign, on=(Campaign.id == CampaignItem.campaign))
           .switch(CampaignItem).join(CampaignParticipant)
           .where(CampaignItem.campaign == campaign_id, CampaignItem.item_id == item_id,
                  Campaign.kind == GROUP_BUY, Campaign.status == APPROVED,
                  CampaignParticipant.status == APPROVED).first())
    if row is None or not running_now(row.campaign.starts_at, row.campaign.ends_at, now) \
            or row.campaign_price_fen >= price_fen:
        raise GroupBuyUnavailable(details={"campaign_id": campaign_id, "item_id": item_id})
    campaign = row.campaign
    return FlashOffer(campaign.id, row.id, row.merchant_id, item_id, row.campaign_price_fen,
                      row.stock_total is not None, campaign.per_user_limit,
                      campaign.merchant_id, campaign.starts_at, campaign.ends_at,
                      campaign.merchant_id is None and campaign.budget_fen is not None,
                      kind=GROUP_BUY), campaign


def plan_group(request: GroupRequest, lines: list[tuple[int, int, int]], user_id: int,
               now: dt.datetime) -> GroupPlan:
    """What ``request`` gets for ``lines`` ((item_id, quantity, price): one line, the
    group's item): ORDER_ITEMS_INVALID, GROUP_NOT_FOUND, GROUP_BUY_UNAVAILABLE, and for a
    join what its seat would answer now (GROUP_CLOSED, GROUP_FULL, GROUP_ALREADY_JOINED)."""
    if len(lines) != 1:
        raise OrderItemsInvalid("拼团订单只能包含一种拼团商品", details={"field": "items"})
    item_id, _, price = lines[0]
    if request.group_id is None:
        offer, campaign = _offer(request.campaign_id, item_id, price, now)
        deadline = min(now + dt.timedelta(hours=campaign.group_hours), campaign.ends_at)
        return GroupPlan(offer, campaign.group_size, deadline, None)
    group = CampaignGroup.get_or_none(CampaignGroup.id == request.group_id)
    if group is None:
        raise GroupNotFound(details={"group_id": request.group_id})
    if group.item_id != item_id:
        raise OrderItemsInvalid("拼团订单只能包含该团的商品",
                                details={"field": "items", "item_id": group.item_id})
    _check_open(group, now)
    if CampaignGroupMember.select().where(CampaignGroupMember.group == group.id,
                                          CampaignGroupMember.user_id == user_id,
                                          CampaignGroupMember.status != SEAT_RELEASED).exists():
        raise GroupAlreadyJoined(details={"group_id": group.id})
    try:
        offer, _ = _offer(group.campaign_id, item_id, price, now)
    except GroupBuyUnavailable:  # its campaign ended (the job fails the group): closed
        raise GroupClosed(details={"group_id": group.id, "status": "campaign ended"}) from None
    return GroupPlan(offer, group.group_size, group.deadline, group.id)


def _check_open(group: CampaignGroup, now: dt.datetime) -> None:
    if group.status != GROUP_OPEN or group.deadline <= now:
        raise GroupClosed(details={"group_id": group.id, "status": group.status})
    if group.seats_taken >= group.group_size:
        raise GroupFull(details={"group_id": group.id, "group_size": group.group_size})


def take_seat(plan: GroupPlan, order_id: int, user_id: int, now: dt.datetime) -> int:
    """The order's seat (in the order's transaction): a new group with the order as its
    first member, or one more seat of an open group by a guarded UPDATE. The group's id.
    GROUP_CLOSED / GROUP_FULL / GROUP_ALREADY_JOINED undo nothing themselves: the order's
    transaction rolls back."""
    if plan.group_id is None:
        group = CampaignGroup.create(
            campaign=plan.offer.campaign_id, campaign_item=plan.offer.campaign_item_id,
            merchant_id=plan.offer.merchant_id, item_id=plan.offer.item_id,
            leader_user_id=user_id, group_size=plan.group_size, seats_taken=1,
            deadline=plan.deadline, created_at=now)
        CampaignGroupMember.create(group=group.id, user_id=user_id, order_id=order_id,
                                   joined_at=now)
        return group.id
    taken = (CampaignGroup.update(seats_taken=CampaignGroup.seats_taken + 1)
             .where(CampaignGroup.id == plan.group_id, CampaignGroup.status == GROUP_OPEN,
                    CampaignGroup.deadline > now,
                    CampaignGroup.seats_taken < CampaignGroup.group_size).execute())
    if taken != 1:
        # Why, as the guard saw it: a plain read in MySQL's transaction would answer from its
        # snapshot, older than the rows the guard read; a locking read reads those.
        query = CampaignGroup.select().where(CampaignGroup.id == plan.group_id)
        _check_open((query.for_update() if is_mysql() else query).get(), now)
        raise GroupClosed(details={"group_id": plan.group_id})
    try:
        # A duplicate key undoes only the failed INSERT (SQLite and InnoDB); the group's row,
        # locked by the seat just taken, makes one user's joins of it take turns.
        CampaignGroupMember.create(group=plan.group_id, user_id=user_id, order_id=order_id,
                                   joined_at=now)
    except IntegrityError:
        again = (CampaignGroupMember.update(status=SEAT_HELD, order_id=order_id, joined_at=now,
                                            paid_at=None, released_at=None)
                 .where(CampaignGroupMember.group == plan.group_id,
                        CampaignGroupMember.user_id == user_id,
                        CampaignGroupMember.status == SEAT_RELEASED).execute())
        if not again:
            raise GroupAlreadyJoined(details={"group_id": plan.group_id}) from None
    return plan.group_id


def release_seat(order_id: int, now: dt.datetime) -> bool:
    """The order will never be paid: its seat goes back to its group (once, whoever calls
    it twice; in the caller's transaction). Whether a seat was given back."""
    seat = CampaignGroupMember.get_or_none(CampaignGroupMember.order_id == order_id)
    if seat is None:
        return False
    released = (CampaignGroupMember.update(status=SEAT_RELEASED, released_at=now)
                .where(CampaignGroupMember.id == seat.id,
                       CampaignGroupMember.order_id == order_id,
                       CampaignGroupMember.status == SEAT_HELD).execute())
    if released:
        (CampaignGroup.update(seats_taken=CampaignGroup.seats_taken - 1)
         .where(CampaignGroup.id == seat.group_id, CampaignGroup.seats_taken > 0).execute())
    return bool(released)


def on_member_paid(notifier: Notifier, order_id: int, group_id: int, now: dt.datetime) -> bool:
    """The order's payment counts in its group (in the payment's transaction); the payment
    that fills the group succeeds it, once. Whether the group succeeded now."""
    seat = (CampaignGroupMember.update(status=SEAT_PAID, paid_at=now)
            .where(CampaignGroupMember.order_id == order_id,
                   CampaignGroupMember.status == SEAT_HELD).execute())
    if not seat:
        return False
    counted = (CampaignGroup.update(paid_count=CampaignGroup.paid_count + 1)
               .where(CampaignGroup.id == group_id, CampaignGroup.status == GROUP_OPEN).execute())
    if not counted:  # failed meanwhile: the failure's job refunds this order
        return False
    succeeded = (CampaignGroup.update(status=GROUP_SUCCEEDED, succeeded_at=now)
                 .where(CampaignGroup.id == group_id, CampaignGroup.status == GROUP_OPEN,
                        CampaignGroup.paid_count >= CampaignGroup.group_size).execute())
    if succeeded:
        _succeed(notifier, CampaignGroup.get_by_id(group_id), now)
    return bool(succeeded)


def _succeed(notifier: Notifier, group: CampaignGroup, now: dt.datetime) -> None:
    """The group filled: its orders proceed as paid orders do (a service order gets its
    code now) and every member is told."""
    name = (CatalogItem.select(CatalogItem.name).where(CatalogItem.id == group.item_id)
            .scalar()) or ""
    members = (Order.select().join(CampaignGroupMember,
                                   on=(CampaignGroupMember.order_id == Order.id))
               .where(CampaignGroupMember.group == group.id,
                      CampaignGroupMember.status == SEAT_PAID).order_by(Order.id))
    for order in list(members):
        if order.kind == SERVICE:
            moved = (Order.update(status=SERVICE_ISSUED, updated_at=now)
                     .where(Order.id == order.id, Order.status == PAID).execute())
            if moved:
                issue_service_code(order, now)
        notifier.notify("group_buy.succeeded", user_id=order.user_id,
                        data={"order_no": order.order_no, "group_id": group.id,
                              "item_name": name, "group_size": group.group_size},
                        dedupe_key=f"group_buy.succeeded:{order.order_no}")


def waiting(order_id: int) -> bool:
    """Whether the order is a group order whose group has not succeeded (yet, or ever)."""
    return (CampaignGroupMember.select().join(CampaignGroup)
            .where(CampaignGroupMember.order_id == order_id,
                   CampaignGroup.status != GROUP_SUCCEEDED).exists())


def refuse_while_waiting(order: Order) -> None:
    """GROUP_PENDING for a group order that waits for its group (fulfilment, refunds)."""
    if order.campaign_discount_fen and waiting(order.id):
        raise GroupPending(details={"order_no": order.order_no})
