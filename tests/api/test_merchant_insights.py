"""GET /api/v1/merchant/insights over HTTP, on small known data sets: the merchant's figures,
the anonymised industry comparison, each suggestion's trigger, and who may read them."""
import datetime as dt
import json

from alliance.analytics.rollups import refresh_daily_sales
from alliance.clock import SHANGHAI
from alliance.coupons.models import CouponDistribution
from alliance.db import connection
from alliance.members.models import MerchantMember
from alliance.merchants.models import StaffMembership
from alliance.orders.models import Order
from server.app import TrafficFlush
from tests.factories import make_item, make_merchant, make_shop, make_template, make_user
from tests.orders_support import OrderTestCase

PATH = "/api/v1/merchant/insights"


class InsightsCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.staff = self.owner_token()
        self.today = dt.datetime.now(SHANGHAI).date()
        self.period = f"from={self.today}&to={self.today}"

    def insights(self, query: str = "", token: str | None = None) -> dict:
        response = self.api("GET", f"{PATH}?{query or self.period}", token=token or self.staff)
        assert response.status == 200, response.body
        return response.json

    def codes(self, body: dict) -> list[str]:
        return [s["code"] for s in body["suggestions"]]

    def peer(self, price_fen: int, *, industry: str = "catering", status: str = "approved"):
        """Another merchant with a shop and one service (no shipping); (merchant, item)."""
        with connection():
            merchant = make_merchant(owner=make_user(), industry=industry, status=status)
            make_shop(merchant)
            return merchant, make_item(merchant, kind="service", price_fen=price_fen, stock=50)

    def roll_up(self) -> None:
        with connection():
            refresh_daily_sales()

    def distribute(self, template_id: int, distributor_id: int) -> None:
        with connection():
            CouponDistribution.create(template=template_id, distributor=distributor_id,
                                      created_by=1)

    def move_before_period(self, order_no: str, user_id: int) -> None:
        """Make a paid order (and the membership it began) three days old."""
        three_days = dt.timedelta(days=3)
        with connection():
            order = Order.get(Order.order_no == order_no)
            Order.update(paid_at=order.paid_at - three_days).where(Order.id == order.id).execute()
            member = MerchantMember.get(MerchantMember.merchant == self.merchant.id,
                                        MerchantMember.user_id == user_id)
            (MerchantMember.update(joined_at=member.joined_at - three_days)
             .where(MerchantMember.id == member.id).execute())


class MerchantFiguresTest(InsightsCase):
    def test_figures_of_the_period_are_exact(self):
        alice, bob, carol = self.token("alice"), self.token("bob"), self.token("carol")
        earlier = self.paid_order(alice)  # before the period: alice returns
        self.move_before_period(earlier["order_no"], self.user_id("alice"))
        # Goods orders pay SHIPPING_FEN (1000) on top of their items, services do not.
        self.paid_order(alice, quantity=2)  # 6000 + 1000
        refunded = self.paid_order(bob)  # 3000 + 1000, 1000 of it refunded
        self.paid_order(bob, self.service)  # 5000: bob buys twice
        coupon_id = self.give_coupon("carol", discount_fen=500)
        self.paid_order(carol, coupon_id=coupon_id)  # 3000 - 500 + 1000
        self.give_coupon("dave")  # claimed, not used
        response = self.api("POST", f"/api/v1/merchant/orders/{refunded['order_no']}/refunds",
                            {"amount_fen": 1_000, "reason": "缺货"}, token=self.staff)
        assert response.status == 201, response.body
        self.wait_for(lambda: [r for r in self.refunds(refunded["order_no"])
                               if r.status == "succeeded"])
        # A partner's coupon handed out here and used at the partner.
        partner, partner_item = self.peer(4_000)
        with connection():
            template = make_template(partner, channels=["own", "partner"], threshold_fen=0,
                                     discount_fen=800)
        self.distribute(template.id, self.merchant.id)
        eve = self.token("eve")
        claimed = self.api("POST", f"/api/v1/coupon-templates/{template.id}/claim",
                           {"scene": f"p={self.merchant.id}"}, token=eve)
        assert claimed.status == 201, claimed.body
        self.paid_order(eve, partner_item, coupon_id=claimed.json["id"])
        self.api("POST", f"/api/v1/coupon-templates/{template.id}/claim",
                 {"scene": f"p={self.merchant.id}"}, token=self.token("frank"))

        body = self.insights()
        assert (body["merchant_id"], body["from"], body["to"], body["days"]) == (
            self.merchant.id, self.today.isoformat(), self.today.isoformat(), 1)
        figures = body["figures"]
        assert figures == {
            "orders": 4, "sales_fen": 19_500, "refunds_fen": 1_000, "net_fen": 18_500,
            "average_order_fen": 4_875, "buyers": 3, "new_buyers": 2, "returning_buyers": 1,
            "repeat_buyers": 1, "repeat_rate": 0.3333, "members_gained": 2,
            "coupons": {"claimed": 2, "used": 1, "claimed_then_used": 1,
                        "redemption_rate": 0.5, "partner_coupons_handed_out": 2,
                        "partner_coupons_used_elsewhere": 1, "partner_redemption_rate": 0.5}}
        goods_stock, service_stock = self.stock(self.goods), self.stock(self.service)
        assert body["best_sellers"] == [
            {"item_id": self.goods.id, "name": self.goods.name, "units": 4,
             "sales_fen": 11_500, "stock": goods_stock},
            {"item_id": self.service.id, "name": self.service.name, "units": 1,
             "sales_fen": 5_000, "stock": service_stock}]
        assert body["traffic"] == {"views": 0, "signed_in_views": 0, "conversion_rate": None}
        # One approved catering merchant besides this one: too few to compare with.
        assert body["comparison"] is None
        assert body["comparison_unavailable"] == "TOO_FEW_PEERS"
        # 4 goods sold in one day: 28 a week, 5 left; the service's 7 a week has 9 left.
        assert goods_stock == 5 and service_stock == 9
        [restock] = body["suggestions"]  # partners distribute: no cooperation suggested
        assert restock == {
            "code": "RESTOCK_BEST_SELLER", "params": {"item_id": self.goods.id, "stock": 5,
                                                      "weekly_units": 28},
            "message": f"热销商品“{self.goods.name}”库存仅剩 5 件，不足近期一周的销量"
                       "（约 28 件），建议及时补货。"}
        # The whole answer again, the same: deterministic.
        assert self.insights() == body

    def test_the_period_defaults_to_the_last_30_days(self):
        body = self.insights(query="x=1")
        assert body["to"] == self.today.isoformat() and body["days"] == 30
        assert body["from"] == (self.today - dt.timedelta(days=29)).isoformat()

    def test_bad_periods_are_400(self):
        for query in ("from=yesterday", "from=2026-02-30", "to=2026-13-01",
                      "from=2026-01-01&to=2026-04-03", "from=2026-03-02&to=2026-03-01"):
            with self.subTest(query=query):
                self.assert_error(self.api("GET", f"{PATH}?{query}", token=self.staff),
                                  400, "VALIDATION_FAILED")
        assert self.api("GET", f"{PATH}?from=2026-01-01&to=2026-04-02",
                        token=self.staff).status == 200  # 92 days


class AuthorizationTest(InsightsCase):
    def test_anonymous_clerk_and_another_merchants_staff_are_refused(self):
        self.assert_error(self.api("GET", PATH), 401, "UNAUTHENTICATED")
        clerk = self.login("clerk")
        with connection():
            StaffMembership.create(merchant=self.merchant, user=clerk["user"]["id"],
                                   role="merchant_clerk")
        self.assert_error(self.api("GET", PATH, token=clerk["access_token"]), 403, "FORBIDDEN")
        other, _ = self.peer(1_000)
        self.assert_error(self.api("GET", f"{PATH}?merchant_id={other.id}", token=self.staff),
                          403, "NOT_MERCHANT_STAFF")
        self.assert_error(self.api("GET", PATH, token=self.token("stranger")), 403,
                          "NOT_MERCHANT_STAFF")


class ComparisonTest(InsightsCase):
    def industry(self) -> dict:
        """This merchant and four approved catering peers with known sales; a pending
        catering merchant and a retail one that do not count."""
        alice, bob, carol = self.token("alice"), self.token("bob"), self.token("carol")
        with connection():
            cheap = make_item(self.merchant, kind="service", price_fen=3_000, stock=50)
        self.paid_order(alice, cheap)  # ours: 2 orders, 6000, AOV 3000, 2 buyers, none repeat
        self.paid_order(bob, cheap)
        p1, p1_item = self.peer(10_000)
        self.paid_order(alice, p1_item)  # 1 order, 10000
        p2, p2_item = self.peer(5_000)
        self.paid_order(alice, p2_item)  # 2 orders by one buyer: repeat rate 1
        self.paid_order(alice, p2_item)
        p3, p3_item = self.peer(2_000)
        self.paid_order(bob, p3_item)
        self.peer(100_000, status="pending")
        retail, retail_item = self.peer(90_000, industry="retail")
        self.paid_order(carol, retail_item)
        return {"p3": p3, "retail": retail}

    def test_too_few_approved_peers_answers_no_comparison(self):
        self.industry()  # four approved catering merchants with this one
        self.roll_up()
        body = self.insights()
        assert body["comparison"] is None and body["comparison_unavailable"] == "TOO_FEW_PEERS"
        assert "AOV_BELOW_INDUSTRY" not in self.codes(body)

    def test_medians_and_percentiles_among_the_industry_only(self):
        others = self.industry()
        p4, p4_item = self.peer(4_000)
        self.paid_order(self.token("carol"), p4_item)
        self.roll_up()
        body = self.insights()
        assert body["comparison_unavailable"] is None
        comparison = body["comparison"]
        assert (comparison["industry"], comparison["merchants"]) == ("catering", 5)
        metrics = comparison["metrics"]
        available = lambda value, median, percentile: {  # noqa: E731
            "value": value, "industry_median": median, "percentile": percentile,
            "merchants": 5, "unavailable": None}
        # orders [1, 1, 1, 2, 2]; sales [2000, 4000, 6000, 10000, 10000];
        # AOV [2000, 3000, 4000, 5000, 10000]; repeat rate [0, 0, 0, 0, 1]
        assert metrics["orders"] == available(2, 1, 80)
        assert metrics["sales_fen"] == available(6_000, 6_000, 50)
        assert metrics["average_order_fen"] == available(3_000, 4_000, 30)
        assert metrics["repeat_rate"] == available(0.0, 0.0, 40)
        assert metrics["conversion_rate"] == {  # nobody has views
            "value": None, "industry_median": None, "percentile": None, "merchants": None,
            "unavailable": "TOO_FEW_PEERS"}
        # Anonymised: no other merchant's id, name or individual figure.
        text = json.dumps(body, ensure_ascii=False)
        with connection():
            for merchant in (p4, others["p3"], others["retail"]):
                assert merchant.name not in text
        assert set(comparison) == {"industry", "merchants", "metrics"}
        assert "10000" not in text and "5000" not in text  # p1's and p2's own values
        aov = [s for s in body["suggestions"] if s["code"] == "AOV_BELOW_INDUSTRY"]
        assert aov == [{
            "code": "AOV_BELOW_INDUSTRY",
            "message": "客单价 30 元，低于同行业中位数 40 元。建议推出“满 35 元减 3 元”的满减活动，"
                       "引导顾客多买一件。",
            "params": {"average_order_fen": 3_000, "industry_median_fen": 4_000,
                       "threshold_fen": 3_500, "reduction_fen": 300}}]

    def test_the_industry_is_read_in_one_statement_and_kept_for_its_other_merchants(self):
        from alliance.analytics import industry
        from tests.support import recorded_sql

        self.industry()
        p4, _ = self.peer(4_000)
        first = self.today - dt.timedelta(days=29)
        with connection():
            merchants = [self.merchant, p4]
            with recorded_sql() as statements:
                industry.compare(merchants[0], first, self.today)
            reads = [s.sql for s in statements if "merchant_daily_sales" in s.sql]
            assert len(reads) == 1 and "merchant_daily_traffic" in reads[0]
            assert len(statements) == 1
            with recorded_sql() as statements:  # another merchant of the industry
                industry.compare(merchants[1], first, self.today)
            assert statements == []
            newcomer, _ = self.peer(1_000)  # approved since: not in what was kept
            with recorded_sql() as statements:
                comparison, _ = industry.compare(newcomer, first, self.today)
            assert len(statements) == 1 and comparison["merchants"] == 6

    def test_a_merchant_not_approved_is_refused_and_never_compared(self):
        from alliance.analytics.insights import merchant_insights

        with connection():
            self.merchant.status = "suspended"
            self.merchant.save()
        self.assert_error(self.api("GET", PATH, token=self.staff), 403, "MERCHANT_NOT_ACTIVE")
        with connection():  # the domain answers without a comparison all the same
            body = merchant_insights(self.merchant.id, None, None)
        assert body["comparison"] is None
        assert body["comparison_unavailable"] == "MERCHANT_NOT_APPROVED"


class SuggestionsTest(InsightsCase):
    def test_a_merchant_without_sales_or_partners_is_told_to_start(self):
        body = self.insights()
        assert self.codes(body) == ["NO_SALES", "START_COOPERATION"]
        assert body["suggestions"][1]["message"].startswith("目前还没有与联盟商户互相分发优惠券")

    def test_low_repeat_rate_needs_five_buyers_who_came_once(self):
        for name in ("b1", "b2", "b3", "b4"):
            self.paid_order(self.token(name), self.service)
        assert "LOW_REPEAT_RATE" not in self.codes(self.insights())
        self.paid_order(self.token("b5"), self.service)
        [repeat] = [s for s in self.insights()["suggestions"] if s["code"] == "LOW_REPEAT_RATE"]
        assert repeat["params"] == {"repeat_rate": 0.0, "buyers": 5, "repeat_buyers": 0}
        assert "会员等级与积分规则" in repeat["message"]
        self.paid_order(self.token("b1"), self.service)  # 1 of 5 again: 20%, not below
        assert "LOW_REPEAT_RATE" not in self.codes(self.insights())

    def test_many_views_with_few_buyers_suggests_coupons(self):
        self.paid_order(self.token("alice"), self.service)
        detail = f"/api/v1/merchants/{self.merchant.id}"
        for _ in range(99):
            assert self.api("GET", detail).status == 200
        TrafficFlush(self.app.settings["ctx"]).tick().result(timeout=10)
        assert "LOW_CONVERSION" not in self.codes(self.insights())  # 99 views: too few
        assert self.api("GET", detail).status == 200
        TrafficFlush(self.app.settings["ctx"]).tick().result(timeout=10)
        [low] = [s for s in self.insights()["suggestions"] if s["code"] == "LOW_CONVERSION"]
        assert low["params"] == {"views": 100, "buyers": 1, "conversion_rate": 0.01}
        assert low["message"] == ("本期店铺详情页被浏览 100 次，下单顾客 1 位（转化率 1.0%）。"
                                  "建议发放新客券或限时优惠券，把浏览变成购买。")

    def test_a_partner_distribution_either_way_silences_the_cooperation_suggestion(self):
        partner, _ = self.peer(1_000)
        with connection():
            ours = make_template(self.merchant, channels=["own", "partner"])
        self.distribute(ours.id, partner.id)
        assert "START_COOPERATION" not in self.codes(self.insights())
