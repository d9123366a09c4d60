"""The nearby search answers from each process's index of listed shops and their list items:
the same answers as the database gives, every change through the API seen by the next
search, other processes' changes once the feed is read, and no database once the index is
loaded, whatever page a process is asked for first."""
import gc
import random
import time

from alliance.db import db
from alliance.infra.localcache import InvalidationFeed
from alliance.infra.models import CacheInvalidation
from alliance.merchants import browse
from alliance.merchants.geo import haversine_m, lat_band
from alliance.merchants import geoindex
from alliance.merchants.aggregates import record_rating, record_sale
from alliance.merchants.geoindex import GEO_INDEX, LIST_ENTRY_LIFETIMES
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

    def forbid_the_database(self) -> None:
        """Every search from here on must be answered from memory, on the event loop."""
        def unreachable(**_):
            raise AssertionError("a nearby search went to the database")

        original = merchants_api.list_merchants
        merchants_api.list_merchants = unreachable
        self.addCleanup(setattr, merchants_api, "list_merchants", original)

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
        self.forbid_the_database()
        assert self.ids(LAT) == [self.merchant.id, *(m.id for m in self.neighbours)]
        assert self.search(LAT, query="&industry=retail")["items"][0]["shop"]["id"] > 0

    def test_once_the_index_is_loaded_any_page_is_answered_from_memory(self):
        with db.connection_context():
            afar = make_merchant(name="远方商户")
            make_shop(afar, FAR_LAT, LNG + 0.01, name="远方门店")
        GEO_INDEX.clear()  # as in a process that has not searched yet
        assert self.ids(LAT)[0] == self.merchant.id  # its first search loads the index
        self.forbid_the_database()
        # Merchants this process never listed: their items came with the index.
        items = self.search(FAR_LAT)["items"]
        assert [item["id"] for item in items] == [*(m.id for m in self.neighbours), afar.id]
        assert items[-1]["name"] == "远方商户" and items[-1]["shop"]["name"] == "远方门店"
        assert items[-1]["distance_m"] == round(haversine_m(FAR_LAT, LNG, FAR_LAT, LNG + 0.01))
        with db.connection_context():
            shops = browse._shops_with_merchants([item["shop"]["id"] for item in items])
        assert dumps(items) == dumps([
            merchant_summary(shops[item["shop"]["id"]].merchant, item["distance_m"],
                             shops[item["shop"]["id"]]) for item in items])

    def test_the_loaded_index_is_kept_out_of_the_cyclic_collectors_reach(self):
        # Over a million long-lived objects at 100k shops: the collector would walk them all
        # at each full collection, with the GIL held.
        GEO_INDEX.clear()
        frozen = gc.get_freeze_count()
        assert self.ids(LAT)[0] == self.merchant.id  # loads the index
        assert gc.get_freeze_count() > frozen

    def test_a_forget_refreshes_the_items_kept_with_the_index(self):
        feed = self.feed_ready()
        assert self.search(LAT)["items"][0]["shop"]["name"] == self.shop.name
        renamed = self.api("PATCH", f"/api/v1/merchant/shops/{self.shop.id}",
                           {"name": "新门店名"}, token=self.owner)
        assert renamed.status == 200, renamed.body
        assert self.search(LAT)["items"][0]["shop"]["name"] == "新门店名"
        with db.connection_context():  # another process renames the merchant
            Merchant.update(name="新商户名").where(Merchant.id == self.merchant.id).execute()
            CacheInvalidation.create(cache="merchant_detail", key=str(self.merchant.id))
        assert self.search(LAT)["items"][0]["name"] != "新商户名"  # not heard of yet
        with db.connection_context():
            assert feed.poll() == 2  # this process's rename of the shop, and that one
        assert self.search(LAT)["items"][0]["name"] == "新商户名"

    def test_ratings_and_popularity_are_read_again_in_bulk_by_one_search(self):
        clock = _Clock()
        original, geoindex.time.monotonic = geoindex.time.monotonic, clock
        self.addCleanup(setattr, geoindex.time, "monotonic", original)
        lifetime = self.settings.detail_cache_seconds * LIST_ENTRY_LIFETIMES
        assert GEO_INDEX.items_lifetime_s == lifetime > 0
        assert [item["rating"] for item in self.search(LAT)["items"]] == [None] * 3
        with db.connection_context():  # reviews and sales: no forget
            for merchant in (self.merchant, *self.neighbours):
                record_rating(merchant.id, 4)
                record_sale(merchant.id, 1, 3)
        clock.now += lifetime - 1
        assert [item["rating"] for item in self.search(LAT)["items"]] == [None] * 3
        clock.now += 2
        items = self.search(LAT)["items"]  # this one re-reads every rating (one query)
        assert [(item["rating"], item["popularity"]) for item in items] == [(4.0, 3)] * 3
        self.forbid_the_database()
        assert self.search(LAT)["items"] == items
        clock.now += lifetime
        assert [GEO_INDEX.ready(), GEO_INDEX.ready()] == [False, True]  # one search is sent
        clock.now += geoindex._RETRY_S
        assert GEO_INDEX.ready() is False  # that one did not re-read them: another is sent

    def test_a_lifetime_of_zero_turns_the_list_items_off(self):
        GEO_INDEX.configure(0)
        self.addCleanup(GEO_INDEX.configure, GEO_INDEX.items_lifetime_s)
        assert self.search(LAT)["items"][0]["rating"] is None
        with db.connection_context():
            record_rating(self.merchant.id, 5)
        assert self.search(LAT)["items"][0]["rating"] == 5.0

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


class _Clock:
    """Stands in for time.monotonic."""

    def __init__(self):
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


def _position(item: dict) -> tuple[float, float]:
    with db.connection_context():
        shop = Shop.get_by_id(item["shop"]["id"])
    return shop.lat, shop.lng
