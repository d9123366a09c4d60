"""The nearby search answers from each process's index of listed shops and the cached merchant
details: the same answers as the database gives, every change through the API seen by the
next search, other processes' changes once the feed is read, and no database when warm."""
import random

from alliance.db import db
from alliance.infra.localcache import InvalidationFeed
from alliance.infra.models import CacheInvalidation
from alliance.merchants import browse
from alliance.merchants.geo import haversine_m, lat_band
from alliance.merchants.geoindex import GEO_INDEX
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.views import merchant_summary
from miniprogram_api import merchants as merchants_api
from server.base import dumps
from tests.factories import DEMO_POINT, make_merchant, make_shop, nearest_by_hand
from tests.support import ApiTestCase

LAT, LNG = DEMO_POINT
FAR_LAT = LAT + 1.5  # 167 km north: beyond the nearby horizon of 100 km


class NearbyIndexTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.owner, self.merchant = self.merchant_owned_by("owner")
        with db.connection_context():
            self.shop = make_shop(self.merchant, LAT, LNG)
            self.neighbours = [make_merchant(industry="retail") for _ in range(2)]
            for n, neighbour in enumerate(self.neighbours):
                make_shop(neighbour, LAT + (n + 1) * 0.002, LNG)
                make_shop(neighbour, FAR_LAT + (n + 1) * 0.002, LNG)

    def search(self, lat: float, lng: float = LNG, query: str = "", limit: int = 20) -> dict:
        response = self.api("GET", f"/api/v1/merchants?lat={lat}&lng={lng}&sort=distance"
                                   f"&limit={limit}{query}")
        assert response.status == 200, response.body
        return response.json

    def ids(self, lat: float, lng: float = LNG, query: str = "") -> list[int]:
        return [m["id"] for m in self.search(lat, lng, query)["items"]]

    def all_pages(self, lat: float, lng: float, limit: int) -> list[tuple[int, int]]:
        seen, cursor = [], ""
        while True:
            page = self.search(lat, lng, cursor, limit)
            seen += [(m["id"], m["distance_m"]) for m in page["items"]]
            if page["next_cursor"] is None:
                return seen
            cursor = f"&cursor={page['next_cursor']}"

    def feed_ready(self) -> InvalidationFeed:
        feed = InvalidationFeed()
        with db.connection_context():
            feed.poll()  # a process's first poll starts its feed
            feed.poll()  # the set-up's own writes
        return feed

    def test_answers_equal_the_database_over_random_points_and_pages(self):
        rng = random.Random(8)
        with db.connection_context():
            merchants = [make_merchant(industry=rng.choice(["catering", "retail"]))
                         for _ in range(25)]
            hidden = make_merchant(status="pending")
            for n in range(80):
                make_shop(merchants[n % 25], LAT + rng.uniform(-0.05, 0.05),
                          LNG + rng.uniform(-0.06, 0.06),
                          status=rng.choice(["open"] * 4 + ["closed"]))
            make_shop(hidden, LAT, LNG)
        points = [(LAT + rng.uniform(-0.06, 0.06), LNG + rng.uniform(-0.07, 0.07))
                  for _ in range(6)]
        for lat, lng in points:
            with db.connection_context():
                GEO_INDEX.refresh()
                for radius in (200.0, 1500.0, 6000.0, 100_000.0):
                    for industry in (None, "retail"):
                        assert (GEO_INDEX.within(lat, lng, radius, industry)
                                == browse._nearest_within(lat, lng, radius, industry))
                expected = nearest_by_hand(lat, lng)
            assert hidden.id not in dict(expected)
            for limit in (1, 6, 20):
                assert self.all_pages(lat, lng, limit) == expected

    def test_items_are_what_the_shops_rows_gave_cold_and_warm(self):
        with db.connection_context():
            Merchant.update(rating_sum=9, rating_count=2, popularity=5).where(
                Merchant.id == self.merchant.id).execute()
        cold = self.search(LAT + 0.001)["items"]  # fills the details' cache
        warm = self.search(LAT + 0.001)["items"]
        with db.connection_context():
            shops = browse._shops_with_merchants([item["shop"]["id"] for item in cold])
            expected = [merchant_summary(shops[item["shop"]["id"]].merchant,
                                         haversine_m(LAT + 0.001, LNG, *_position(item)),
                                         shops[item["shop"]["id"]]) for item in cold]
        assert len(expected) == 3 and expected[0]["rating"] == 4.5
        assert dumps(cold) == dumps(warm) == dumps(expected)  # the same JSON, field order too

    def test_a_warm_search_needs_no_worker_and_no_database(self):
        assert self.ids(LAT) == [self.merchant.id, *(m.id for m in self.neighbours)]

        def unreachable(**_):
            raise AssertionError("a warm nearby search went to the database")

        original = merchants_api.list_merchants
        merchants_api.list_merchants = unreachable
        self.addCleanup(setattr, merchants_api, "list_merchants", original)
        assert self.ids(LAT) == [self.merchant.id, *(m.id for m in self.neighbours)]
        assert self.search(LAT, query="&industry=retail")["items"][0]["shop"]["id"] > 0

    def test_shops_created_moved_and_closed_through_the_api_show_at_once(self):
        assert self.merchant.id not in self.ids(FAR_LAT)  # the index is loaded
        created = self.api("POST", "/api/v1/merchant/shops",
                           {"name": "远店", "address": "上海", "lat": FAR_LAT, "lng": LNG},
                           token=self.owner)
        assert created.status == 201, created.body
        assert self.ids(FAR_LAT)[0] == self.merchant.id
        moved = self.api("PATCH", f"/api/v1/merchant/shops/{created.json['id']}",
                         {"lat": FAR_LAT + 0.05, "lng": LNG}, token=self.owner)
        assert moved.status == 200, moved.body
        assert self.ids(FAR_LAT)[-1] == self.merchant.id
        assert self.ids(FAR_LAT + 0.05)[0] == self.merchant.id
        page = self.search(FAR_LAT + 0.05)["items"][0]
        assert page["distance_m"] == 0 and page["shop"]["id"] == created.json["id"]
        closed = self.api("PATCH", f"/api/v1/merchant/shops/{self.shop.id}",
                          {"status": "closed"}, token=self.owner)
        assert closed.status == 200, closed.body
        assert self.merchant.id not in self.ids(LAT)  # its only shop near there is closed
        assert self.ids(FAR_LAT + 0.05)[0] == self.merchant.id

    def test_a_suspended_merchant_leaves_the_list_at_once_and_returns_reinstated(self):
        assert self.ids(LAT)[0] == self.merchant.id
        operator = self.operator_token("operator")
        suspended = self.api("POST", f"/api/admin/v1/merchants/{self.merchant.id}/suspend",
                             {"reason": "违规经营"}, token=operator)
        assert suspended.status == 200, suspended.body
        assert self.ids(LAT) == [m.id for m in self.neighbours]
        reinstated = self.api("POST", f"/api/admin/v1/merchants/{self.merchant.id}/reinstate",
                              {"reason": "已整改"}, token=operator)
        assert reinstated.status == 200, reinstated.body
        assert self.ids(LAT)[0] == self.merchant.id

    def test_other_processes_changes_arrive_through_the_feed(self):
        feed = self.feed_ready()
        assert self.ids(LAT)[0] == self.merchant.id
        assert self.ids(LAT, query="&industry=retail") == [m.id for m in self.neighbours]
        with db.connection_context():  # another process moves a shop and changes an industry
            Shop.update(lat=FAR_LAT, lat_band=lat_band(FAR_LAT)).where(
                Shop.id == self.shop.id).execute()
            Merchant.update(industry="retail").where(Merchant.id == self.merchant.id).execute()
            CacheInvalidation.create(cache="merchant_detail", key=str(self.merchant.id))
        assert self.ids(LAT)[0] == self.merchant.id  # not heard of yet
        with db.connection_context():
            assert feed.poll() == 1
        assert self.merchant.id not in self.ids(LAT)
        assert self.ids(FAR_LAT, query="&industry=retail")[0] == self.merchant.id

    def test_a_forget_of_everything_reloads_the_whole_index(self):
        feed = self.feed_ready()
        assert self.ids(LAT)[0] == self.merchant.id
        with db.connection_context():
            Shop.update(lat=FAR_LAT, lat_band=lat_band(FAR_LAT)).where(
                Shop.id == self.shop.id).execute()
            CacheInvalidation.create(cache="merchant_detail", key=None)
        assert self.ids(LAT)[0] == self.merchant.id
        with db.connection_context():
            assert feed.poll() == 1
        assert self.merchant.id not in self.ids(LAT)
        assert self.ids(FAR_LAT)[0] == self.merchant.id
        with db.connection_context():
            Shop.update(lat=LAT, lat_band=lat_band(LAT)).where(Shop.id == self.shop.id).execute()
        GEO_INDEX.clear()
        assert self.ids(LAT)[0] == self.merchant.id


def _position(item: dict) -> tuple[float, float]:
    with db.connection_context():
        shop = Shop.get_by_id(item["shop"]["id"])
    return shop.lat, shop.lng
