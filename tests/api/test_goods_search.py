"""GET /api/v1/items (the alliance-wide goods search) and GET /api/v1/items/compare, over
HTTP as the mini-program asks them."""
from urllib.parse import urlencode

from alliance.catalog.models import CatalogItem
from alliance.db import db
from alliance.orders.aftersale_models import Review
from tests.factories import make_item, make_merchant, make_shop
from tests.support import ApiTestCase

HERE = (31.2304, 121.4737)
ABOUT_1KM_NORTH = (31.2394, 121.4737)
ABOUT_10KM_NORTH = (31.3204, 121.4737)


class GoodsSearchTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        with db.connection_context():
            self.noodles = make_merchant(name="老街面馆", industry="catering")
            make_shop(self.noodles, *HERE)
            self.salon = make_merchant(name="发艺沙龙", industry="beauty_hair")
            make_shop(self.salon, *ABOUT_1KM_NORTH)
            self.far = make_merchant(name="远郊超市", industry="retail")
            make_shop(self.far, *ABOUT_10KM_NORTH)
            self.bowl = make_item(self.noodles, name="红烧牛肉面", price_fen=2800,
                                  sales_count=50, category="面食")
            self.rice = make_item(self.noodles, name="卤肉饭", price_fen=1800, sales_count=80,
                                  category="米饭")
            self.cut = make_item(self.salon, name="洗剪吹", kind="service", price_fen=6800,
                                 sales_count=20, category="剪发")
            self.perm = make_item(self.salon, name="烫发套餐", kind="service", price_fen=29800,
                                  sales_count=5, category="烫染")
            self.tissue = make_item(self.far, name="抽纸", price_fen=990, sales_count=80,
                                    category="日用")
            # never shown: off the shelf, or of a suspended merchant
            make_item(self.noodles, name="牛肉面旧款", status="off_shelf", sales_count=999)
            suspended = make_merchant(name="停业面馆", status="suspended")
            make_shop(suspended, *HERE)
            make_item(suspended, name="牛肉面", sales_count=999)
        self.all_ids = {self.bowl.id, self.rice.id, self.cut.id, self.perm.id, self.tissue.id}

    def search(self, **query) -> dict:
        response = self.api("GET", "/api/v1/items?" + urlencode(query))
        assert response.status == 200, response.body
        return response.json

    def ids(self, **query) -> list[int]:
        return [item["id"] for item in self.search(**query)["items"]]

    def every_page(self, **query) -> list[dict]:
        """Every item, a page of ``limit`` at a time, following next_cursor."""
        items, cursor = [], None
        while True:
            page = self.search(**query, **({"cursor": cursor} if cursor else {}))
            assert len(page["items"]) <= int(query.get("limit", 20))
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def test_sales_is_the_default_and_only_shelved_items_of_approved_merchants_show(self):
        page = self.search()
        assert [i["id"] for i in page["items"]] == [self.tissue.id, self.rice.id, self.bowl.id,
                                                   self.cut.id, self.perm.id]
        assert page["next_cursor"] is None
        bowl = page["items"][2]
        assert bowl["merchant"] == {"id": self.noodles.id, "name": "老街面馆",
                                    "industry": "catering", "industry_name": "餐饮美食",
                                    "logo_url": None}
        assert bowl["campaign"] is None and "distance_m" not in bowl
        assert {"id", "name", "kind", "price_fen", "stock", "sales_count"} <= set(bowl)

    def test_each_sort_pages_without_duplicates_or_gaps(self):
        with db.connection_context():  # ties, so that the id breaks them across pages
            extra = [make_item(self.salon, price_fen=2800, sales_count=50) for _ in range(4)]
        everything = self.all_ids | {i.id for i in extra}
        orders = {
            "sales": lambda i: (-i["sales_count"], -i["id"]),
            "price_asc": lambda i: (i["price_fen"], i["id"]),
            "price_desc": lambda i: (-i["price_fen"], -i["id"]),
            "newest": lambda i: -i["id"],
        }
        for sort, key in orders.items():
            items = self.every_page(sort=sort, limit=2)
            assert [i["id"] for i in items] == [i["id"] for i in sorted(items, key=key)], sort
            assert len(items) == len(everything) and {i["id"] for i in items} == everything

    def test_filters_by_name_industry_kind_category_price_and_merchant(self):
        assert self.ids(q="牛肉") == [self.bowl.id]
        assert self.ids(industry="beauty_hair") == [self.cut.id, self.perm.id]
        assert self.ids(kind="service", sort="price_desc") == [self.perm.id, self.cut.id]
        assert self.ids(category="米饭") == [self.rice.id]
        assert self.ids(min_price_fen=1000, max_price_fen=6800, sort="price_asc") == [
            self.rice.id, self.bowl.id, self.cut.id]
        assert self.ids(merchant_id=self.noodles.id) == [self.rice.id, self.bowl.id]
        assert self.ids(q="不存在的商品") == []

    def test_around_a_point_items_carry_their_merchants_nearest_shop_distance(self):
        with db.connection_context():
            nearer = make_shop(self.far, 31.2314, 121.4737, name="市中心店")  # ~110 m
        page = self.search(lat=HERE[0], lng=HERE[1], radius_m=2000)
        by_id = {i["id"]: i for i in page["items"]}
        assert set(by_id) == self.all_ids
        assert by_id[self.bowl.id]["distance_m"] == 0
        assert 950 < by_id[self.cut.id]["distance_m"] < 1050
        assert 100 < by_id[self.tissue.id]["distance_m"] < 120  # its nearest shop, not 10 km
        assert by_id[self.tissue.id]["merchant"]["logo_url"] is None and nearer.id
        small = self.ids(lat=HERE[0], lng=HERE[1], radius_m=500)
        assert set(small) == {self.bowl.id, self.rice.id, self.tissue.id}

    def test_a_large_radius_measures_each_merchant_and_finds_the_same(self):
        wide = self.ids(lat=HERE[0], lng=HERE[1], radius_m=20000, sort="price_asc")
        assert wide == [self.tissue.id, self.rice.id, self.bowl.id, self.cut.id, self.perm.id]
        within_5km = self.ids(lat=HERE[0], lng=HERE[1], sort="price_asc")  # default 5 km
        assert within_5km == [self.rice.id, self.bowl.id, self.cut.id, self.perm.id]

    def test_distance_sort_lists_nearest_merchants_first_and_pages_cleanly(self):
        items = self.every_page(lat=HERE[0], lng=HERE[1], radius_m=20000, sort="distance",
                                limit=2)
        assert [i["id"] for i in items] == [self.rice.id, self.bowl.id, self.cut.id,
                                            self.perm.id, self.tissue.id]
        distances = [i["distance_m"] for i in items]
        assert distances == sorted(distances) and 9900 < distances[-1] < 10100
        near = self.every_page(lat=HERE[0], lng=HERE[1], sort="distance", limit=1)
        assert [i["id"] for i in near] == [self.rice.id, self.bowl.id, self.cut.id, self.perm.id]

    def test_a_merchant_suspended_or_an_item_taken_off_the_shelf_disappears(self):
        with db.connection_context():
            CatalogItem.update(status="off_shelf").where(CatalogItem.id == self.rice.id).execute()
        self.api("POST", f"/api/admin/v1/merchants/{self.salon.id}/suspend",
                 {"reason": "违规"}, token=self.operator_token())
        assert set(self.ids()) == {self.bowl.id, self.tissue.id}
        assert set(self.ids(lat=HERE[0], lng=HERE[1], radius_m=20000,
                            sort="distance")) == {self.bowl.id, self.tissue.id}

    def test_bad_input_is_a_400_naming_the_field(self):
        cases = {
            "sort=cheapest": "sort", "industry=mining": "industry", "kind=gift": "kind",
            "min_price_fen=-1": "min_price_fen", "max_price_fen=abc": "max_price_fen",
            "min_price_fen=500&max_price_fen=100": "min_price_fen",
            "lat=31.2": "lng", "lat=91&lng=121": "lat", "radius_m=1000": "lat",
            f"lat={HERE[0]}&lng={HERE[1]}&radius_m=0": "radius_m",
            "sort=distance": "lat", "limit=101": "limit", "cursor=bm90LWpzb24": "cursor",
            "merchant_id=0": "merchant_id", "q=" + "长" * 65: "q",
        }
        for query, field in cases.items():
            response = self.api("GET", f"/api/v1/items?{query}")
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field, query
        distance = self.search(lat=HERE[0], lng=HERE[1], sort="distance", limit=1)
        sales = self.api("GET", f"/api/v1/items?sort=sales&cursor={distance['next_cursor']}")
        self.assert_error(sales, 400, "VALIDATION_FAILED")  # another sort's cursor

    def test_compare_shows_the_fields_side_by_side_and_names_the_differences(self):
        with db.connection_context():
            low = make_item(self.noodles, name="牛肉面小份", price_fen=2800, sales_count=50,
                            category="面食", stock=3)
            for rating in (5, 4):
                line = _order_line(self.bowl)
                Review.create(order=line.order, line=line, user_id=line.order.user_id,
                              merchant_id=self.noodles.id, item_id=self.bowl.id, rating=rating)
        same_shop = self.api("GET", f"/api/v1/items/compare?ids={self.bowl.id},{low.id}")
        assert same_shop.status == 200, same_shop.body
        bowl, small = same_shop.json["items"]
        assert (bowl["id"], small["id"]) == (self.bowl.id, low.id)
        assert (bowl["rating"], bowl["review_count"]) == (4.5, 2)
        assert (small["rating"], small["review_count"]) == (None, 0)
        assert (bowl["stock_state"], small["stock_state"]) == ("in_stock", "low")
        assert "stock" not in bowl
        assert same_shop.json["differences"] == ["rating", "review_count", "stock_state"]
        across = self.api("GET", f"/api/v1/items/compare?ids={self.cut.id},{self.tissue.id},"
                                 f"{self.bowl.id}").json
        assert [i["id"] for i in across["items"]] == [self.cut.id, self.tissue.id, self.bowl.id]
        assert across["items"][1]["merchant"]["name"] == "远郊超市"
        assert {"price_fen", "sales_count", "merchant_id", "industry", "kind",
                "category"} <= set(across["differences"])
        assert "campaign_price_fen" not in across["differences"]

    def test_compare_refuses_bad_ids_and_items_not_for_sale(self):
        for ids in ("", "1", "1,2,3,4,5", "1,,2", "a,b", f"{self.bowl.id},{self.bowl.id}"):
            response = self.api("GET", f"/api/v1/items/compare?ids={ids}")
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == "ids"
        with db.connection_context():
            hidden = make_item(self.noodles, status="off_shelf").id
        response = self.api("GET", f"/api/v1/items/compare?ids={self.bowl.id},{hidden},999999")
        self.assert_error(response, 404, "ITEM_NOT_FOUND")
        assert response.json["error"]["details"]["item_ids"] == [hidden, 999999]


def _order_line(item):
    """A completed order's line of ``item``, for a review to refer to."""
    import datetime as dt

    from alliance.db import utcnow
    from alliance.orders.models import Order, OrderLine
    from tests.factories import make_user

    order = Order.create(order_no=f"T{item.id}{Order.select().count()}", user=make_user(),
                         merchant=item.merchant_id, kind="goods", status="completed",
                         items_fen=item.price_fen, total_fen=item.price_fen,
                         payable_fen=item.price_fen, paid_fen=item.price_fen,
                         expires_at=utcnow() + dt.timedelta(minutes=30), paid_at=utcnow())
    return OrderLine.create(order=order, item_id=item.id, kind=item.kind, name=item.name,
                            unit_price_fen=item.price_fen, quantity=1,
                            amount_fen=item.price_fen, payable_fen=item.price_fen)
