"""Who pays for an order's discounts: the coupon and points subsidies settlement counts,
from orders placed, paid (through the sandbox's signed notifications) and refunded as the
mini-program and the merchant's staff do."""
import datetime as dt
import threading

from alliance.coupons.claims import claim
from alliance.db import connection
from alliance.orders.funding import (coupon_subsidy_events, points_shares,
                                     points_subsidy_events)
from alliance.orders.models import Order, OrderDiscount
from alliance.points import services as points
from alliance.points.rules import points_value_fen
from tests.factories import make_item, make_merchant, make_template
from tests.orders_support import OrderTestCase
from tests.support import recorded_sql

SECOND = dt.timedelta(seconds=1)
WIDE = (dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))


def amounts(events) -> dict:
    """{(merchant, counterparty): the sum of its events}."""
    sums: dict = {}
    for e in events:
        key = (e.merchant_id, e.counterparty_merchant_id)
        sums[key] = sums.get(key, 0) + e.amount_fen
    return sums


class FundingCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.staff = self.owner_token()
        with connection():
            self.partner = make_merchant(name="星光影城")  # issues alliance-scope coupons

    def coupon(self, issuer, discount_fen: int, **spec) -> int:
        """A fixed coupon of ``issuer`` (None: a platform coupon) claimed by alice."""
        with connection():
            template = make_template(issuer, threshold_fen=0, discount_fen=discount_fen,
                                     **({"scope": "alliance"} if issuer else {}), **spec)
            return claim(template.id, self.user_id("alice")).id

    def earn(self, funder, amount: int, days: int) -> None:
        """Points for alice funded by ``funder`` (None: the platform), living ``days``."""
        user_id = self.user_id("alice")
        with connection():
            points.earn(user_id, amount, merchant_id=funder.id if funder else None,
                        idempotency_key=f"test:{user_id}:{amount}:{days}",
                        lifetime=dt.timedelta(days=days))

    def refund(self, order_no: str, amount_fen: int, count: int = 1) -> None:
        """The merchant refunds ``amount_fen``; waits until ``count`` refunds succeeded."""
        response = self.api("POST", f"/api/v1/merchant/orders/{order_no}/refunds",
                            {"amount_fen": amount_fen, "reason": "缺货"}, token=self.staff)
        assert response.status == 201, response.body
        self.wait_for(lambda: len([r for r in self.refunds(order_no)
                                   if r.status == "succeeded"]) >= count)

    def discounts(self, order_no: str, kind: str) -> list[OrderDiscount]:
        order = self.row(order_no)
        with connection():
            return list(OrderDiscount.select().where(OrderDiscount.order == order.id,
                                                     OrderDiscount.kind == kind)
                        .order_by(OrderDiscount.id))


class CouponSubsidyTest(FundingCase):
    def test_platform_coupon_is_owed_to_the_seller_by_the_platform(self):
        coupon_id = self.coupon(None, 800)
        order = self.paid_order(self.buyer, coupon_id=coupon_id)
        paid_at = self.row(order["order_no"]).paid_at
        [event] = coupon_subsidy_events(*WIDE)
        assert (event.merchant_id, event.counterparty_merchant_id, event.amount_fen,
                event.line, event.order_no, event.occurred_at) == (
            self.merchant.id, None, 800, "coupon_subsidy", order["order_no"], paid_at)
        assert points_subsidy_events(*WIDE) == []

    def test_partners_alliance_coupon_is_owed_by_the_partner_on_both_statements(self):
        coupon_id = self.coupon(self.partner, 600)
        order = self.paid_order(self.buyer, coupon_id=coupon_id)
        events = coupon_subsidy_events(*WIDE)
        assert amounts(events) == {(self.merchant.id, self.partner.id): 600,
                                   (self.partner.id, self.merchant.id): -600}
        assert len({(e.source_type, e.source_id, e.merchant_id) for e in events}) == 2
        assert {e.order_no for e in events} == {order["order_no"]}

    def test_sellers_own_coupon_is_no_subsidy(self):
        coupon_id = self.give_coupon("alice", discount_fen=500)
        order = self.paid_order(self.buyer, coupon_id=coupon_id)
        assert [d.amount_fen for d in self.discounts(order["order_no"], "coupon")] == [500]
        assert coupon_subsidy_events(*WIDE) == []

    def test_stacked_coupons_split_the_orders_coupon_discount_to_the_fen(self):
        with connection():
            item = make_item(self.merchant, price_fen=10000, stock=5)
        shop, platform = self.coupon(self.partner, 9000), self.coupon(None, 5000)
        # 9000 + the platform's 1000 on what is left would leave nothing to pay: the pricing
        # cap takes 1 fen off the platform coupon, applied last.
        order = self.paid_order(self.buyer, item, coupon_ids=[platform, shop])
        assert order["breakdown"]["coupon_discount_fen"] == 9999
        parts = [(d.coupon_id, d.funder_merchant_id, d.amount_fen)
                 for d in self.discounts(order["order_no"], "coupon")]
        assert parts == [(shop, self.partner.id, 9000), (platform, None, 999)]
        sums = amounts(coupon_subsidy_events(*WIDE))
        assert sums == {(self.merchant.id, self.partner.id): 9000,
                        (self.merchant.id, None): 999, (self.partner.id, self.merchant.id): -9000}
        assert sum(v for (m, _), v in sums.items() if m == self.merchant.id) == 9999

    def test_unpaid_and_cancelled_orders_owe_nothing(self):
        self.order(self.buyer, coupon_id=self.coupon(None, 300))
        cancelled = self.order(self.buyer, coupon_id=self.coupon(self.partner, 400))
        response = self.api("POST", f"/api/v1/orders/{cancelled['order_no']}/cancel", {},
                            token=self.buyer)
        assert response.status == 200, response.body
        with connection():
            assert OrderDiscount.select().count() == 2  # recorded at checkout
        assert coupon_subsidy_events(*WIDE) == []

    def test_full_refund_reverses_the_subsidy_when_the_coupon_comes_back(self):
        coupon_id = self.coupon(self.partner, 600)
        order = self.paid_order(self.buyer, coupon_id=coupon_id)
        order_no = order["order_no"]
        self.refund(order_no, 1000)
        assert self.coupon_status(coupon_id) == "used"  # a partial refund keeps it used
        assert amounts(coupon_subsidy_events(*WIDE))[(self.merchant.id, self.partner.id)] == 600
        self.refund(order_no, order["paid_fen"] - 1000, count=2)
        assert self.coupon_status(coupon_id) == "active"
        events = coupon_subsidy_events(*WIDE)
        assert amounts(events) == {(self.merchant.id, self.partner.id): 0,
                                   (self.partner.id, self.merchant.id): 0}
        reversals = [e for e in events if e.amount_fen < 0 and e.merchant_id == self.merchant.id]
        [last_refund] = [r for r in self.refunds(order_no) if r.seq == 2]
        assert [e.occurred_at for e in reversals] == [last_refund.finished_at]
        assert len({(e.source_type, e.source_id, e.merchant_id) for e in events}) == 4


class PointsSubsidyTest(FundingCase):
    def test_points_earned_elsewhere_are_owed_by_their_funders_to_the_fen(self):
        with connection():
            item = make_item(self.merchant, price_fen=5000, stock=5)
        self.earn(self.partner, 300, days=10)  # spent first: soonest expiry
        self.earn(None, 200, days=20)
        self.earn(self.merchant, 500, days=30)  # the seller's own: 100 of them are spent
        order = self.paid_order(self.buyer, item, points=600)
        assert order["breakdown"]["points_discount_fen"] == 600
        parts = [(d.funder_merchant_id, d.points, d.amount_fen)
                 for d in self.discounts(order["order_no"], "points")]
        assert parts == [(None, 200, 200), (self.merchant.id, 100, 100),
                         (self.partner.id, 300, 300)]
        assert all(fen == points_value_fen(n) for _, n, fen in parts)
        assert amounts(points_subsidy_events(*WIDE)) == {
            (self.merchant.id, self.partner.id): 300, (self.partner.id, self.merchant.id): -300,
            (self.merchant.id, None): 200}
        assert coupon_subsidy_events(*WIDE) == []

    def test_points_split_in_fen_add_up_whatever_a_point_is_worth(self):
        funders = [(None, 1), (3, 1), (5, 1)]
        assert points_shares(funders, 100) == [34, 33, 33]
        assert points_shares([(None, 2), (3, 7)], 5) == [1, 4]
        assert sum(points_shares([(None, 333), (3, 333), (4, 334)], 4999)) == 4999

    def test_full_refund_gives_the_points_back_and_nets_every_subsidy_to_zero(self):
        self.earn(self.partner, 400, days=10)
        coupon_id = self.coupon(None, 500)
        order = self.paid_order(self.buyer, quantity=2, points=300, coupon_id=coupon_id)
        order_no = order["order_no"]
        self.refund(order_no, 1000)  # partial: the spent points stay spent
        assert amounts(points_subsidy_events(*WIDE)) == {
            (self.merchant.id, self.partner.id): 300, (self.partner.id, self.merchant.id): -300}
        self.refund(order_no, order["paid_fen"] - 1000, count=2)
        assert self.balance("alice") == 400  # the spent points came back (nothing was earned)
        for source in (coupon_subsidy_events, points_subsidy_events):
            assert set(amounts(source(*WIDE)).values()) == {0}
        assert len(points_subsidy_events(*WIDE)) == 4


class SourceRangeTest(FundingCase):
    def test_only_events_in_the_half_open_range_are_reported(self):
        coupon_id = self.coupon(self.partner, 600)
        order = self.paid_order(self.buyer, coupon_id=coupon_id)
        paid_at = self.row(order["order_no"]).paid_at
        assert coupon_subsidy_events(paid_at - SECOND, paid_at) == []
        assert coupon_subsidy_events(paid_at + SECOND / 2, paid_at + 2 * SECOND) == []
        assert len(coupon_subsidy_events(paid_at, paid_at + SECOND)) == 2
        beijing = dt.timezone(dt.timedelta(hours=8))
        aware = paid_at.replace(tzinfo=dt.timezone.utc).astimezone(beijing)
        assert len(coupon_subsidy_events(aware, aware + SECOND)) == 2
        with connection():  # paid yesterday, refunded today
            (Order.update(paid_at=paid_at - dt.timedelta(days=1))
             .where(Order.order_no == order["order_no"]).execute())
        self.refund(order["order_no"], order["paid_fen"])
        given_back = self.refunds(order["order_no"])[0].finished_at
        before = coupon_subsidy_events(WIDE[0], given_back)
        after = coupon_subsidy_events(given_back, WIDE[1])
        assert {e.amount_fen for e in before if e.merchant_id == self.merchant.id} == {600}
        assert {e.amount_fen for e in after if e.merchant_id == self.merchant.id} == {-600}
        assert {e.occurred_at for e in after} == {given_back}

    def test_a_source_reads_a_range_in_two_statements_however_many_orders(self):
        self.earn(self.partner, 1000, days=10)
        for _ in range(3):
            self.paid_order(self.buyer, points=100, coupon_id=self.coupon(None, 100))
        for source in (coupon_subsidy_events, points_subsidy_events):
            with recorded_sql() as statements:
                events = source(*WIDE)
            assert len(events) == (3 if source is coupon_subsidy_events else 6)
            # (the server's workers may still be delivering the payments' messages)
            assert len([s for s in statements if s.thread == threading.get_ident()]) == 2
