"""The scenarios: each is one function that prepares a Workload against a running server.

    @scenario("me", data=("users",))
    def me(bench: Bench) -> Workload:
        tokens = [bench.login(bench.user_name(i)) for i in range(1, bench.connections + 1)]
        return Workload([[bench.request("GET", "/api/v1/me", token=t)] for t in tokens])

``data`` names the bulk loaders (bench/data.py) the scenario needs. The function runs in the
harness, after the servers are up: it may call the server (``bench.call``, ``bench.login``)
and read the database (the harness is bound to it), and returns one list of prepared
requests per connection (cycled by the load generator) and, optionally, a ``check`` that
runs after the load and returns the problems it finds (exact counts in the database). Every
scenario also fails on an answer whose status is not in ``ok`` and on transport errors.
"""
from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit
from typing import Callable

from peewee import fn

from alliance.accounts.models import RefreshFamily, User
from alliance.catalog.models import CatalogItem
from alliance.accounts.tokens import TokenService
from alliance.coupons import claims
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.coupons.templates import create_template
from alliance.db import connection
from alliance.merchants.models import Merchant, Shop, StaffMembership
from alliance.members.models import MerchantMember
from alliance.notifications.models import OutboxMessage
from alliance.orders.models import (ATTEMPT_PAID, PAID, SERVICE_ISSUED, Order, PaymentAttempt,
                                    ServiceCode)
from alliance.payments.models import PROCESSED, PaymentNotification
from alliance.points.models import PointsEntry
from alliance.redemptions.models import Redemption
from bench.data import Scale, bench_position, bench_user_name, merchant_ids
from bench.loadgen import Measurement, http_request
from bench.servers import call
from config.settings import Settings
from sandbox.wechatpay import WechatPaySandbox

Check = Callable[[Measurement], list[str]]


@dataclass
class Workload:
    """What the load generator sends, and what must hold afterwards."""

    requests: list[list[bytes]]  # one list per connection, cycled
    ok: frozenset[int] = frozenset({200})
    check: Check | None = None
    # Send each request once per server process before the warm-up (reads the server caches:
    # a steady state).
    prime: bool = False


@dataclass
class Bench:
    """What a scenario function gets: the server it drives and the data loaded into it."""

    host: str
    port: int
    connections: int
    scale: Scale
    settings: Settings  # the servers' (their SECRET_KEY signs the tokens minted here)

    def request(self, method: str, path: str, body: dict | None = None, *,
                token: str | None = None, client: int = 0) -> bytes:
        """A prepared request; ``client`` picks the caller's address (X-Real-IP)."""
        headers = {"X-Real-IP": f"198.18.{client // 250 % 250}.{client % 250 + 1}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return http_request(method, path, payload, headers)

    def call(self, method: str, path: str, body: dict | None = None, *,
             token: str | None = None) -> tuple[int, dict | None]:
        """A request outside the measurement; (status, JSON)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return call(self.host, self.port, method, path, body, headers)

    def login(self, name: str) -> str:
        """An access token for the sandbox stand-in ``name``."""
        status, answer = self.call("POST", "/api/v1/auth/wechat", {"code": f"sandbox-{name}"})
        if status != 200:
            raise RuntimeError(f"setup login of {name} failed: {status} {answer}")
        return answer["access_token"]

    def user_ids(self, count: int) -> list[int]:
        """The ids of the first ``count`` loaded users."""
        with connection():
            return [u.id for u in User.select(User.id).where(User.nickname.startswith("压测用户"))
                    .order_by(User.id).limit(count)]

    def token_for(self, user_id: int) -> str:
        """An access token of ``user_id``, minted directly (a login recorded as usual)."""
        service = TokenService(self.settings.secret_key, self.settings.access_token_ttl_s)
        with connection():
            return service.issue("user", user_id, ["consumer"]).access_token

    def tokens(self, count: int) -> list[tuple[int, str]]:
        """(user id, access token) of the first ``count`` loaded users."""
        return [(user_id, self.token_for(user_id)) for user_id in self.user_ids(count)]

    def user_name(self, index: int) -> str:
        """The name of loaded user ``index`` (1 .. scale.users)."""
        return bench_user_name((index - 1) % self.scale.users + 1)


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[Bench], Workload]
    target: str  # "app" (python -m server) or "baseline" (bench.baseline)
    data: tuple[str, ...]
    summary: str


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, target: str = "app",
             data: tuple[str, ...] = ()) -> Callable[[Callable[[Bench], Workload]], Callable]:
    """Register a scenario; its docstring's first line is its summary in the report."""

    def register(build: Callable[[Bench], Workload]) -> Callable[[Bench], Workload]:
        summary = (build.__doc__ or name).strip().splitlines()[0]
        SCENARIOS[name] = Scenario(name, build, target, data, summary)
        return build

    return register


def _count(query) -> int:
    with connection():
        return query.count()


@scenario("baseline", target="baseline")
def baseline(bench: Bench) -> Workload:
    """GET / of a bare Tornado JSON handler: the ceiling every ratio is taken against."""
    return Workload([[http_request("GET", "/")] for _ in range(bench.connections)])


@scenario("healthz")
def healthz(bench: Bench) -> Workload:
    """GET /healthz: the full handler stack plus one pooled connection and SELECT 1."""
    return Workload([[bench.request("GET", "/healthz", client=c)]
                     for c in range(bench.connections)])


@scenario("me", data=("users",))
def me(bench: Bench) -> Workload:
    """GET /api/v1/me: verify the JWT, check the login is not revoked, read the user."""
    tokens = [bench.login(bench.user_name(c + 1)) for c in range(bench.connections)]
    return Workload([[bench.request("GET", "/api/v1/me", token=token, client=c)]
                     for c, token in enumerate(tokens)])


LOGINS_PER_CONNECTION = 500


@scenario("login", data=("users",))
def login(bench: Bench) -> Workload:
    """POST /api/v1/auth/wechat with sandbox codes of loaded users (jscode2session over HTTP)."""
    users_before = _count(User.select())
    families_before = _count(RefreshFamily.select())
    requests = []
    for c in range(bench.connections):
        indexes = range(c + 1, c + 1 + LOGINS_PER_CONNECTION * bench.connections,
                        bench.connections)
        requests.append([bench.request("POST", "/api/v1/auth/wechat",
                                       {"code": f"sandbox-{bench.user_name(i)}"}, client=c)
                         for i in indexes])

    def check(result: Measurement) -> list[str]:
        problems = []
        logins = result.statuses.get(200, 0)
        families = _count(RefreshFamily.select()) - families_before
        if families != logins:
            problems.append(f"{logins} logins answered 200 but {families} logins were recorded")
        users = _count(User.select())
        if users != users_before:
            problems.append(f"logins of known users created {users - users_before} new users")
        return problems

    return Workload(requests, check=check)


def _merchant_pages(bench: Bench, path: str, seed: int, prime: bool = False) -> Workload:
    """GET ``path`` (``{id}`` in it) of random loaded merchants, anonymously."""
    with connection():
        ids = merchant_ids()
    rng = random.Random(seed)
    return Workload([[bench.request("GET", path.format(id=rng.choice(ids)), client=c)
                      for _ in range(200)] for c in range(bench.connections)], prime=prime)


@scenario("merchant", data=("merchants", "shops"))
def merchant_detail(bench: Bench) -> Workload:
    """GET /api/v1/merchants/{id} of loaded merchants, anonymously: the merchant, its shops; each page viewed once per server process before the warm-up (a running server's cache)."""
    return _merchant_pages(bench, "/api/v1/merchants/{id}", seed=11, prime=True)


@scenario("items", data=("merchants", "goods"))
def merchant_items(bench: Bench) -> Workload:
    """GET /api/v1/merchants/{id}/items of loaded merchants: a page of goods and services."""
    return _merchant_pages(bench, "/api/v1/merchants/{id}/items", seed=13)


@scenario("nearby", data=("merchants", "shops"))
def nearby_search(bench: Bench) -> Workload:
    """GET /api/v1/merchants?lat=&lng=&sort=distance from points of the loaded area; each search made once per server process before the warm-up (a running server's index and cache)."""
    rng = random.Random(12)
    requests = []
    for c in range(bench.connections):
        points = [bench_position(rng) for _ in range(200)]
        requests.append([bench.request(
            "GET", f"/api/v1/merchants?lat={lat}&lng={lng}&sort=distance&limit=20", client=c)
            for lat, lng in points])
    return Workload(requests, prime=True)


CLAIMERS_PER_COUPON = 2


@scenario("claim", data=("users", "merchants"))
def claim_rush(bench: Bench) -> Workload:
    """POST /api/v1/coupon-templates/{id}/claim: twice as many users as coupons, one each."""
    stock = max(1, min(1000, bench.scale.users // CLAIMERS_PER_COUPON))
    users = bench.tokens(stock * CLAIMERS_PER_COUPON)
    with connection():
        issuer = Merchant.select().where(Merchant.status == "approved").order_by(Merchant.id).get()
        template = create_template(
            {"name": "压测抢券", "kind": "fixed", "discount_fen": 500, "total_stock": stock,
             "per_user_limit": 1, "valid_days": 7, "channels": ["own"]},
            merchant_id=issuer.id, actor_kind="user", actor_id=issuer.owner_id)
    path = f"/api/v1/coupon-templates/{template.id}/claim"
    requests = [[bench.request("POST", path, {}, token=token, client=c)
                 for _, token in users[c::bench.connections]] for c in range(bench.connections)]

    def check(result: Measurement) -> list[str]:
        with connection():
            coupons = Coupon.select().where(Coupon.template == template.id).count()
            issued = CouponTemplate.get_by_id(template.id).issued
            doubles = (Coupon.select(Coupon.user_id).where(Coupon.template == template.id)
                       .group_by(Coupon.user_id).having(fn.COUNT(Coupon.id) > 1).count())
        problems = []
        if coupons > stock or issued != coupons:
            problems.append(f"oversold: stock {stock}, issued {issued}, coupons {coupons}")
        if coupons != result.statuses.get(201, 0):
            problems.append(f"{result.statuses.get(201, 0)} claims answered 201 "
                            f"but {coupons} coupons exist")
        if sum(result.statuses.values()) >= len(users) and coupons != stock:
            problems.append(f"every user tried but only {coupons} of {stock} were claimed")
        if doubles:
            problems.append(f"{doubles} users hold more than their one coupon")
        return problems

    return Workload(requests, ok=frozenset({201, 409}), check=check)


REDEEMED_CODES = 2000


@scenario("redeem", data=("users", "merchants", "shops"))
def counter_redemption(bench: Bench) -> Workload:
    """POST /api/v1/merchant/redemptions: a clerk redeems claimed coupon codes, each once."""
    holders = bench.user_ids(min(REDEEMED_CODES, bench.scale.users - 1) + 1)
    clerk_id = holders.pop()
    with connection():
        merchant = (Merchant.select().where(Merchant.status == "approved")
                    .order_by(Merchant.id).get())
        shop_id = Shop.select(Shop.id).where(Shop.merchant == merchant.id).order_by(Shop.id).get().id
        StaffMembership.get_or_create(merchant=merchant.id, user=clerk_id,  # again: 2nd table
                                      defaults={"role": "merchant_clerk"})
        template = create_template(
            {"name": "压测核销券", "kind": "fixed", "discount_fen": 300,
             "total_stock": len(holders), "per_user_limit": 1, "valid_days": 7,
             "channels": ["own"]},
            merchant_id=merchant.id, actor_kind="user", actor_id=merchant.owner_id)
        codes = [claims.claim(template.id, user_id).code for user_id in holders]
    token = bench.token_for(clerk_id)
    requests = [[bench.request("POST", "/api/v1/merchant/redemptions",
                               {"code": code, "shop_id": shop_id}, token=token, client=c)
                 for code in codes[c::bench.connections]] for c in range(bench.connections)]

    def check(result: Measurement) -> list[str]:
        with connection():
            redemptions = (Redemption.select().where(Redemption.code.in_(codes))
                           .count())
            distinct = (Redemption.select(Redemption.code).where(Redemption.code.in_(codes))
                        .distinct().count())
            used = (Coupon.select().where(Coupon.template == template.id,
                                          Coupon.status == "redeemed").count())
        problems = []
        if redemptions != distinct:
            problems.append(f"{redemptions - distinct} codes were redeemed twice")
        if redemptions != result.statuses.get(201, 0) or used != redemptions:
            problems.append(f"{result.statuses.get(201, 0)} redemptions answered 201, "
                            f"{redemptions} recorded, {used} coupons redeemed")
        return problems

    return Workload(requests, ok=frozenset({201, 409}), check=check)


ORDERS_PER_CONNECTION = 200


def _goods_ids(count: int, seed: int) -> list[int]:
    """``count`` random loaded goods and services on shelf (each of a loaded merchant)."""
    with connection():
        ids = [i.id for i in CatalogItem.select(CatalogItem.id)
               .where(CatalogItem.name.startswith("压测商品"), CatalogItem.status == "on_shelf")]
    return random.Random(seed).sample(ids, min(count, len(ids)))


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
        orders = _count(Order.select().where(Order.user.in_(user_ids), Order.id > last_id))
        created = result.statuses.get(201, 0)
        if taken == created == orders:
            return []
        return [f"{created} orders answered 201, {orders} exist, {taken} units left the stock"]

    return Workload(requests, ok=frozenset({201}), check=check)


NOTIFIED_ORDERS = 2000  # more than a 12 s run answers (each twice) at the rates seen here
SETUP_THREADS = 8


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
        paid = Order.select().where(Order.id.in_(order_ids),
                                    Order.status.in_([PAID, SERVICE_ISSUED]))
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
    with connection():
        notifications = [sandbox.pay({"out_trade_no": no})[1] for no in trade_nos]
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


def _visits(user_ids: list[int]) -> int:
    with connection():
        return (MerchantMember.select(fn.SUM(MerchantMember.visits))
                .where(MerchantMember.user_id.in_(user_ids)).scalar() or 0)


def _merchant_sales() -> int:
    with connection():
        return Merchant.select(fn.SUM(Merchant.sales_fen)).scalar() or 0
