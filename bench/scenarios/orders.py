"""Orders and their payment notifications, signed as WeChat Pay signs them."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from peewee import fn

from alliance.catalog.models import CatalogItem
from alliance.db import connection
from alliance.merchants.models import Merchant
from alliance.members.models import MerchantMember
from alliance.notifications.delivery import SENT
from alliance.notifications.models import OutboxMessage
from alliance.orders.models import (ATTEMPT_PAID, PAID, SERVICE_ISSUED, Order, PaymentAttempt,
                                    ServiceCode)
from alliance.payments.models import PROCESSED, PaymentNotification
from alliance.points.models import PointsEntry
from bench.loadgen import Measurement, http_request
from bench.scenarios.core import Bench, Workload, count, scenario
from sandbox.wechatpay import WechatPaySandbox


ORDERS_PER_CONNECTION = 200


def _goods_ids(how_many: int, seed: int) -> list[int]:
    """``how_many`` random loaded goods and services on shelf (each of a loaded merchant)."""
    with connection():
        ids = [i.id for i in CatalogItem.select(CatalogItem.id)
               .where(CatalogItem.name.startswith("压测商品"), CatalogItem.status == "on_shelf")]
    return random.Random(seed).sample(ids, min(how_many, len(ids)))


def _stock_of(item_ids: list[int]) -> dict[int, int]:
    with connection():
        return {i.id: i.stock for i in CatalogItem.select(CatalogItem.id, CatalogItem.stock)
                .where(CatalogItem.id.in_(item_ids))}


def _order_body(item_id: int) -> dict:
    return {"items": [{"item_id": item_id, "quantity": 1}],
            "contact": {"name": "压测", "phone": "13800000000", "address": "上海市"}}


@scenario("order", data=("users", "merchants", "goods"))
def order_create(bench: Bench) -> Workload:
    """POST /api/v1/orders: a buyer per connection orders one unit of a hot item (stock taken)."""
    users = bench.tokens(bench.connections)
    items = _goods_ids(8, seed=14)
    before = _stock_of(items)
    rng = random.Random(15)
    requests = [[bench.request("POST", "/api/v1/orders", _order_body(rng.choice(items)),
                               token=token, client=c) for _ in range(ORDERS_PER_CONNECTION)]
                for c, (_, token) in enumerate(users)]
    user_ids = [user_id for user_id, _ in users]
    with connection():  # the orders of this run only (the same users order in every table)
        last_id = Order.select(fn.MAX(Order.id)).scalar() or 0

    def check(result: Measurement) -> list[str]:
        taken = sum(before[i] - stock for i, stock in _stock_of(items).items())
        orders = count(Order.select().where(Order.user.in_(user_ids), Order.id > last_id))
        created = result.statuses.get(201, 0)
        if taken == created == orders:
            return []
        return [f"{created} orders answered 201, {orders} exist, {taken} units left the stock"]

    return Workload(requests, ok=frozenset({201}), check=check)


NOTIFIED_ORDERS = 12000  # more than a 12 s run answers (each twice) at the rates seen here
SETUP_THREADS = 8
DELIVERY_WAIT_S = 20


def _pending_wechat_payment(bench: Bench, token: str, item_id: int) -> str:
    """A consumer's order of ``item_id`` and its WeChat Pay payment; its out_trade_no."""
    status, order = bench.call("POST", "/api/v1/orders", _order_body(item_id), token=token)
    if status != 201:
        raise RuntimeError(f"setup order failed: {status} {order}")
    status, payment = bench.call("POST", f"/api/v1/orders/{order['order_no']}/payments",
                                 {"channel": "wechatpay"}, token=token)
    if status != 201:
        raise RuntimeError(f"setup payment failed: {status} {payment}")
    return payment["out_trade_no"]


def _paid_effects(order_ids: list[int], order_nos: list[str]) -> dict[str, int]:
    """What paying these orders did, counted row by row (each should equal the orders paid)."""
    with connection():
        paid = _paid_orders(order_ids)
        return {
            "orders paid": paid.count(),
            "payments paid": PaymentAttempt.select().where(PaymentAttempt.order.in_(order_ids),
                                                           PaymentAttempt.status == ATTEMPT_PAID)
            .count(),
            "notifications processed": PaymentNotification.select().where(
                PaymentNotification.out_trade_no.in_(
                    PaymentAttempt.select(PaymentAttempt.out_trade_no)
                    .where(PaymentAttempt.order.in_(order_ids))),
                PaymentNotification.status == PROCESSED).count(),
            "points earned": PointsEntry.select().where(PointsEntry.idempotency_key.in_(
                [f"order:{no}:earn" for no in order_nos])).count(),
            "order.paid messages": OutboxMessage.select().where(OutboxMessage.dedupe_key.in_(
                [f"order.paid:{no}" for no in order_nos])).count(),
            "order.paid messages sent": _sent_messages(order_nos),
            "service codes": ServiceCode.select().where(ServiceCode.order.in_(order_ids)).count(),
            "paid services": paid.where(Order.status == SERVICE_ISSUED).count(),
        }


@scenario("notify", data=("users", "merchants", "goods"))
def payment_notification(bench: Bench) -> Workload:
    """POST /payments/wechatpay/notify: each pending order's signed notification sent twice."""
    count = min(NOTIFIED_ORDERS, bench.scale.users)
    users = bench.tokens(count)
    user_ids = [user_id for user_id, _ in users]
    items = _goods_ids(count, seed=16)
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        trade_nos = list(pool.map(lambda pair: _pending_wechat_payment(bench, pair[0][1], pair[1]),
                                  zip(users, items)))
    # Paid at the sandbox's WeChat Pay, signed with its platform key now (the timestamp
    # stays inside the 5 minutes the server accepts: the run takes seconds).
    sandbox = WechatPaySandbox(bench.settings)
    with bench.at_providers():
        notifications = [sandbox.pay({"out_trade_no": no})[1] for no in trade_nos]
    with connection():
        orders = list(Order.select(Order.id, Order.order_no).join(PaymentAttempt)
                      .where(PaymentAttempt.out_trade_no.in_(trade_nos)).tuples())
        sales_before, visits_before = _merchant_sales(), _visits(user_ids)
    order_ids, order_nos = [i for i, _ in orders], [no for _, no in orders]
    sends = [http_request("POST", urlsplit(n.url).path, n.body, n.headers)
             for n in notifications]
    # Both copies at the same place of two lists half the connections apart: they race.
    conns, half = bench.connections, max(1, bench.connections // 2)
    requests: list[list[bytes]] = [[] for _ in range(conns)]
    for i, send in enumerate(sends):
        requests[i % conns].append(send)
        requests[(i + half) % conns].append(send)

    def check(result: Measurement) -> list[str]:
        # The messages leave after the answers (the delivery process): a few seconds for
        # the last ones to reach WeChat.
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while (_sent_messages(order_nos) < _paid_count(order_ids)
               and time.monotonic() < deadline):
            time.sleep(0.2)
        effects = _paid_effects(order_ids, order_nos)
        paid = effects.pop("orders paid")
        services = effects.pop("paid services")
        effects["service codes"] += paid - services  # goods orders have none
        problems = [f"{paid} orders paid but {n} {what}" for what, n in effects.items()
                    if n != paid]
        answered = result.statuses.get(204, 0)
        if answered >= 3 * count and paid != count:  # every list went round
            problems.append(f"{answered} notifications of {count} orders, {paid} paid")
        visits = _visits(user_ids) - visits_before
        if visits != paid:
            problems.append(f"{paid} orders paid but {visits} purchases counted by memberships")
        sales = _merchant_sales()
        with connection():
            paid_fen = (Order.select(fn.SUM(Order.paid_fen))
                        .where(Order.id.in_(order_ids), Order.paid_at.is_null(False)).scalar())
        if sales - sales_before != (paid_fen or 0):
            problems.append(f"merchants' sales grew by {sales - sales_before} fen, "
                            f"orders paid {paid_fen} fen")
        return problems

    return Workload(requests, ok=frozenset({204}), check=check)


def _paid_orders(order_ids: list[int]):
    """The query of those of the orders that are paid."""
    return Order.select().where(Order.id.in_(order_ids), Order.status.in_([PAID, SERVICE_ISSUED]))


def _paid_count(order_ids: list[int]) -> int:
    return count(_paid_orders(order_ids))


def _sent_messages(order_nos: list[str]) -> int:
    """The orders' ``order.paid`` messages WeChat has taken."""
    with connection():
        return OutboxMessage.select().where(
            OutboxMessage.dedupe_key.in_([f"order.paid:{no}" for no in order_nos]),
            OutboxMessage.status == SENT).count()


def _visits(user_ids: list[int]) -> int:
    with connection():
        return (MerchantMember.select(fn.SUM(MerchantMember.visits))
                .where(MerchantMember.user_id.in_(user_ids)).scalar() or 0)


def _merchant_sales() -> int:
    with connection():
        return Merchant.select(fn.SUM(Merchant.sales_fen)).scalar() or 0
