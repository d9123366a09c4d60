"""Consumer browsing as CONTRACT.md's core journeys describe it, over the demo data."""
from unittest import mock

from alliance.db import db
from alliance.merchants import browse, queries
from sandbox.demo import load
from tests.factories import make_item, make_merchant, make_shop
from tests.support import ApiTestCase, recorded_sql

POINT = "lat=31.2304&lng=121.4737"


class BrowseTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        assert load(self.settings)

    def test_demo_merchants_are_listed_nearest_first_with_contract_fields(self):
        response = self.api("GET", f"/api/v1/merchants?{POINT}")
        assert response.status == 200
        items = response.json["items"]
        assert len(items) >= 3 and "next_cursor" in response.json
        assert len({m["industry"] for m in items}) >= 3
        for merchant in items:
            assert {"id", "name", "industry", "distance_m", "rating"} <= set(merchant)
        distances = [m["distance_m"] for m in items]
        assert distances == sorted(distances) and distances[-1] < 2000

    def test_popular_sort_without_position_has_no_distance(self):
        response = self.api("GET", "/api/v1/merchants?sort=popular&limit=2")
        assert response.status == 200
        assert all("distance_m" not in m for m in response.json["items"])
        popularity = [m["popularity"] for m in response.json["items"]]
        assert popularity == sorted(popularity, reverse=True)
        cursor = response.json["next_cursor"]
        rest = self.api("GET", f"/api/v1/merchants?sort=popular&cursor={cursor}")
        assert {m["id"] for m in rest.json["items"]}.isdisjoint(
            {m["id"] for m in response.json["items"]})

    def test_industry_filter_and_name_search(self):
        response = self.api("GET", f"/api/v1/merchants?{POINT}&industry=catering&q=%E9%9D%A2")
        assert [m["name"] for m in response.json["items"]] == ["老街面馆"]

    def test_name_search_near_a_point_measures_each_merchants_nearest_listed_shop(self):
        with db.connection_context():
            far = make_merchant(name="联盟远郊馆")
            make_shop(far, 31.2304, 121.4737, status="closed")  # here, but not listed
            listed = make_shop(far, 31.6804, 121.4737)  # 50 km north
            make_shop(make_merchant(name="联盟外省馆"), 32.5, 121.4737)  # beyond 100 km
            make_shop(make_merchant(name="联盟远郊馆二", status="suspended"), 31.2305, 121.4737)
        for read_whole in (browse.NAME_MATCHES_READ_WHOLE, 0):  # by names first, or by shops
            with mock.patch.object(browse, "NAME_MATCHES_READ_WHOLE", read_whole), \
                    recorded_sql() as statements:
                found = self.api("GET", f"/api/v1/merchants?{POINT}&q=%E8%81%94%E7%9B%9F").json
            # a rare name: its merchants' own shops, not every shop around the point
            boxes = [s.sql for s in statements if '"lat_band" IN' in s.sql]
            assert bool(boxes) == (read_whole == 0)
            assert [(m["id"], m["shop"]["id"]) for m in found["items"]] == [(far.id, listed.id)]
            assert 49_000 < found["items"][0]["distance_m"] < 51_000

    def test_detail_has_shops_and_coupon_templates(self):
        merchant_id = self.api("GET", "/api/v1/merchants").json["items"][0]["id"]
        response = self.api("GET", f"/api/v1/merchants/{merchant_id}?{POINT}")
        assert response.status == 200
        detail = response.json
        assert detail["id"] == merchant_id and detail["coupon_templates"]  # demo coupons
        shop = detail["shops"][0]
        assert {"name", "address", "lat", "lng", "opening_hours", "open_now",
                "distance_m"} <= set(shop)

    def test_detail_sections_registered_by_other_domains_are_included(self):
        seen = []

        def offers(merchant, now):
            return [{"id": 7, "merchant_id": merchant.id}], None

        def for_viewer(public, viewer_id):
            seen.append(viewer_id)
            return [{**offer, "mine": True} for offer in public]

        queries.register_detail_section("probe_offers", offers, for_viewer)
        queries.PUBLIC_DETAILS.clear()
        try:
            merchant_id = self.api("GET", "/api/v1/merchants").json["items"][0]["id"]
            anonymous = self.api("GET", f"/api/v1/merchants/{merchant_id}")
            signed_in = self.api("GET", f"/api/v1/merchants/{merchant_id}",
                                 token=self.token("alice"))
        finally:
            queries._DETAIL_SECTIONS.pop("probe_offers")
            queries.PUBLIC_DETAILS.clear()
        assert anonymous.json["probe_offers"] == [{"id": 7, "merchant_id": merchant_id}]
        assert signed_in.json["probe_offers"] == [{"id": 7, "merchant_id": merchant_id,
                                                   "mine": True}]
        assert len(seen) == 1 and seen[0] is not None

    def test_items_of_a_demo_merchant_include_goods_and_services_in_stock(self):
        for merchant in self.api("GET", "/api/v1/merchants").json["items"]:
            items = self.api("GET", f"/api/v1/merchants/{merchant['id']}/items").json["items"]
            assert {i["kind"] for i in items} == {"goods", "service"}
            for item in items:
                assert {"id", "name", "kind", "price_fen", "stock"} <= set(item)
                assert item["stock"] > 0 and isinstance(item["price_fen"], int)

    def test_items_filter_by_kind_price_and_sort(self):
        with db.connection_context():
            merchant = make_merchant()
            make_shop(merchant)
            cheap = make_item(merchant, price_fen=500, kind="service")
            dear = make_item(merchant, price_fen=5000)
            make_item(merchant, price_fen=700, status="draft")
        base = f"/api/v1/merchants/{merchant.id}/items"
        by_price = self.api("GET", f"{base}?sort=price_desc").json["items"]
        assert [i["id"] for i in by_price] == [dear.id, cheap.id]
        services = self.api("GET", f"{base}?kind=service").json["items"]
        assert [i["id"] for i in services] == [cheap.id]
        ranged = self.api("GET", f"{base}?min_price_fen=1000&max_price_fen=9000").json["items"]
        assert [i["id"] for i in ranged] == [dear.id]
        first = self.api("GET", f"{base}?sort=price_asc&limit=1").json
        second = self.api("GET", f"{base}?sort=price_asc&limit=1&cursor={first['next_cursor']}")
        second = second.json
        assert [first["items"][0]["id"], second["items"][0]["id"]] == [cheap.id, dear.id]
        assert second["next_cursor"] is None

    def test_unapproved_merchant_is_not_found(self):
        with db.connection_context():
            pending = make_merchant(status="pending")
        self.assert_error(self.api("GET", f"/api/v1/merchants/{pending.id}"), 404,
                          "MERCHANT_NOT_FOUND")
        self.assert_error(self.api("GET", f"/api/v1/merchants/{pending.id}/items"), 404,
                          "MERCHANT_NOT_FOUND")

    def test_bad_arguments_are_400s(self):
        self.assert_error(self.api("GET", "/api/v1/merchants?sort=distance"), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", "/api/v1/merchants?lat=abc&lng=1"), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", "/api/v1/merchants?limit=1000"), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", "/api/v1/merchants?cursor=%%%"), 400,
                          "VALIDATION_FAILED")

    def test_demo_logins_are_the_merchants_people(self):
        owners = {}
        for n in (1, 2, 3):
            memberships = self.api("GET", "/api/v1/merchant/memberships",
                                   token=self.token(f"owner-{n}")).json["items"]
            assert [m["role"] for m in memberships] == ["merchant_owner"]
            owners[n] = memberships[0]["merchant_id"]
        assert len(set(owners.values())) == 3
        clerk = self.api("GET", "/api/v1/merchant/profile", token=self.token("clerk-1"))
        assert clerk.status == 200
        assert clerk.json["merchant_id"] == owners[1] and clerk.json["role"] == "merchant_clerk"

    def test_profile_of_a_merchant_one_does_not_work_at_is_forbidden(self):
        owner_2 = self.api("GET", "/api/v1/merchant/profile", token=self.token("owner-2"))
        other = owner_2.json["merchant_id"]
        response = self.api("GET", f"/api/v1/merchant/profile?merchant_id={other}",
                            token=self.token("clerk-1"))
        self.assert_error(response, 403, "NOT_MERCHANT_STAFF")
        self.assert_error(self.api("GET", "/api/v1/merchant/profile", token=self.token("alice")),
                          403, "NOT_MERCHANT_STAFF")
