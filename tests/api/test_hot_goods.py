"""Hot goods for consumers (GET /api/v1/items/hot) and operators (GET
/api/admin/v1/hot-items), from orders placed and paid as buyers do; and the running flash
price in the goods search."""
import datetime as dt

from alliance.analytics import hot
from alliance.catalog.models import CatalogItem
from alliance.db import connection
from alliance.orders.models import Order
from tests.campaigns_support import CampaignTestCase
from tests.factories import make_item, make_merchant, make_shop
from tests.support import recorded_sql

FAR_AWAY = (39.9042, 116.4074)  # Beijing: not in Shanghai's area


class HotGoodsTest(CampaignTestCase):
    def setUp(self):
        super().setUp()
        hot.HOT.clear()
        with connection():
            self.tea = make_item(self.merchant, name="奶茶", price_fen=1500, stock=50,
                                 sales_count=3)
            self.classic = make_item(self.merchant, name="招牌老面", price_fen=2000, stock=50,
                                     sales_count=500)  # sold well long ago, not this week
            self.salon = make_merchant(name="北京发廊", industry="beauty_hair")
            make_shop(self.salon, *FAR_AWAY)
            self.cut = make_item(self.salon, kind="service", name="剪发", price_fen=5000,
                                 stock=50)
        self.buyer = self.token("alice")

    def tearDown(self):
        hot.HOT.clear()
        super().tearDown()

    def pay(self, item, quantity: int = 1) -> dict:
        order = self.order(self.buyer, item, quantity)
        self.provider_pays(self.start_payment(self.buyer, order["order_no"]))
        return order

    def hot_list(self, **query) -> list[tuple[int, int]]:
        path = "/api/v1/items/hot?" + "&".join(f"{k}={v}" for k, v in query.items())
        response = self.api("GET", path)
        assert response.status == 200, response.body
        return [(i["id"], i["units_7d"]) for i in response.json["items"]]

    def paid_days_ago(self, order_no: str, days: int) -> None:
        with connection():
            paid_at = Order.get(Order.order_no == order_no).paid_at
            (Order.update(paid_at=paid_at - dt.timedelta(days=days))
             .where(Order.order_no == order_no).execute())

    def test_hot_goods_rank_the_weeks_paid_units_then_all_time_sales(self):
        self.pay(self.tea, 3)
        self.pay(self.goods, 1)
        self.pay(self.cut, 2)
        self.order(self.buyer, self.service, 5)  # unpaid: not counted
        old = self.pay(self.service, 4)
        self.paid_days_ago(old["order_no"], 8)  # before the week
        assert self.hot_list(limit=5) == [(self.tea.id, 3), (self.cut.id, 2),
                                          (self.goods.id, 1), (self.classic.id, 0),
                                          (self.service.id, 0)]
        hot.HOT.clear()
        assert self.hot_list(industry="beauty_hair", limit=1) == [(self.cut.id, 2)]
        response = self.api("GET", "/api/v1/items/hot?limit=1").json["items"][0]
        assert (response["rank"], response["merchant"]["name"]) == (1, "老街面馆")

    def test_hot_goods_near_a_point_are_of_merchants_in_its_area(self):
        self.pay(self.cut, 2)
        self.pay(self.tea, 1)
        here = self.hot_list(lat=31.2304, lng=121.4737, limit=2)
        assert here == [(self.tea.id, 1), (self.classic.id, 0)]
        beijing = self.hot_list(lat=FAR_AWAY[0], lng=FAR_AWAY[1], limit=3)
        assert beijing == [(self.cut.id, 2)]

    def test_sold_out_and_off_shelf_items_are_not_hot(self):
        self.pay(self.tea, 3)
        self.pay(self.cut, 2)
        self.pay(self.goods, 1)
        with connection():
            CatalogItem.update(stock=0).where(CatalogItem.id == self.tea.id).execute()
            CatalogItem.update(status="off_shelf").where(CatalogItem.id == self.cut.id).execute()
        assert self.hot_list(limit=2) == [(self.goods.id, 1), (self.classic.id, 0)]

    def test_the_list_is_kept_a_while_and_costs_no_query(self):
        self.pay(self.tea, 1)
        assert self.hot_list(limit=1) == [(self.tea.id, 1)]
        self.pay(self.goods, 2)
        with recorded_sql() as statements:
            assert self.hot_list(limit=1) == [(self.tea.id, 1)]  # as read before
        assert not [s for s in statements if "order_line" in s.sql or "catalog_item" in s.sql]
        hot.HOT.clear()  # its minute is over
        assert self.hot_list(limit=1) == [(self.goods.id, 2)]

    def test_hot_bad_input_is_a_400(self):
        self.hot_list(limit=20)  # kept: a position half given is still refused
        for query, field in {"limit=51": "limit", "limit=0": "limit", "industry=mining":
                             "industry", "lat=31": "lng", "lng=200&lat=1": "lng"}.items():
            response = self.api("GET", f"/api/v1/items/hot?{query}")
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field

    def test_operators_see_units_fen_orders_and_the_rank_change(self):
        before = [self.pay(self.tea, 5), self.pay(self.goods, 1)]
        for order in before:
            self.paid_days_ago(order["order_no"], 8)  # the week before: tea 1st, goods 2nd
        self.pay(self.goods, 2)
        self.pay(self.goods, 1)
        self.pay(self.tea, 1)
        self.pay(self.cut, 1)
        operator = self.operator_token("operator")
        response = self.api("GET", "/api/admin/v1/hot-items?days=7", token=operator)
        assert response.status == 200, response.body
        rows = {r["item_id"]: r for r in response.json["items"]}
        goods = rows[self.goods.id]
        assert (goods["rank"], goods["units"], goods["orders"], goods["sales_fen"]) == (
            1, 3, 2, 9000)
        assert (goods["previous_rank"], goods["rank_change"]) == (2, 1)
        assert goods["merchant"]["name"] == "老街面馆" and goods["status"] == "on_shelf"
        # tea sold 1 unit, as the cut did for more fen: third
        assert (rows[self.tea.id]["previous_rank"], rows[self.tea.id]["rank_change"]) == (1, -2)
        assert rows[self.cut.id]["previous_rank"] is None
        month = self.api("GET", "/api/admin/v1/hot-items?days=30&industry=catering",
                         token=operator).json["items"]
        assert [(r["item_id"], r["units"]) for r in month] == [(self.tea.id, 6),
                                                               (self.goods.id, 4)]

    def test_the_hot_goods_report_needs_the_analytics_permission(self):
        path = "/api/admin/v1/hot-items"
        self.assert_error(self.api("GET", path), 401, "UNAUTHENTICATED")
        self.assert_error(self.api("GET", path, token=self.buyer), 401, "TOKEN_INVALID")
        service = self.operator_token("customer_service")
        self.assert_error(self.api("GET", path, token=service), 403, "FORBIDDEN")
        operator = self.operator_token("operator")
        for query, field in {"days=14": "days", "days=x": "days", "industry=mining": "industry",
                             "limit=101": "limit"}.items():
            response = self.api("GET", f"{path}?{query}", token=operator)
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field

    def test_the_search_shows_the_running_flash_price(self):
        flash = self.flash(self.goods, price=1999, stock=2)
        items = {i["id"]: i for i in self.api("GET", "/api/v1/items").json["items"]}
        campaign = items[self.goods.id]["campaign"]
        assert (campaign["campaign_id"], campaign["campaign_price_fen"],
                campaign["remaining_stock"]) == (flash, 1999, 2)
        assert items[self.service.id]["campaign"] is None
        detail = self.api("GET", f"/api/v1/items/{self.goods.id}").json["campaign"]
        assert detail == campaign
        compared = self.api("GET", f"/api/v1/items/compare?ids={self.goods.id},"
                                   f"{self.service.id}").json
        assert compared["items"][0]["campaign_price_fen"] == 1999
        assert "campaign_price_fen" in compared["differences"]
