"""The merchant detail's per-process cache: visitors share one public detail for a few
seconds; whoever changes the merchant, a shop or a coupon sees it at once; what depends on
the viewer or their position is never shared."""
import datetime as dt
import json

from alliance.db import db
from alliance.infra import localcache
from alliance.infra.localcache import InvalidationFeed, purge_invalidations
from alliance.infra.models import CacheInvalidation
from alliance.merchants import queries
from alliance.merchants.models import Merchant, Shop
from tests.factories import make_shop
from tests.support import ApiTestCase

TEMPLATE = {"name": "到店立减", "kind": "fixed", "discount_fen": 500, "valid_days": 7,
            "total_stock": 20}


class Clock:
    """Stands in for time.monotonic and for utcnow where the detail and its cache read it."""

    def __init__(self):
        self.now = 1000.0
        self.utc = None  # None: the real time

    def __call__(self) -> float:
        return self.now

    def utcnow(self) -> dt.datetime:
        return (self.utc + dt.timedelta(seconds=self.now - 1000.0) if self.utc
                else dt.datetime.utcnow())


class DetailCacheTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.owner, self.merchant = self.merchant_owned_by("owner")
        with db.connection_context():
            self.shop = make_shop(self.merchant, name="静安店")
        self.path = f"/api/v1/merchants/{self.merchant.id}"
        self.clock = Clock()
        original, localcache.time.monotonic = localcache.time.monotonic, self.clock
        self.addCleanup(setattr, localcache.time, "monotonic", original)
        for module in (localcache, queries):
            original_utcnow, module.utcnow = module.utcnow, self.clock.utcnow
            self.addCleanup(setattr, module, "utcnow", original_utcnow)
        self.ttl = self.settings.detail_cache_seconds

    def detail(self, query: str = "", token: str | None = None) -> dict:
        response = self.api("GET", self.path + query, token=token)
        assert response.status == 200, response.body
        return response.json

    def change_behind_our_back(self, name: str) -> None:
        """What another server process does: a write this process is not told of."""
        with db.connection_context():
            Shop.update(name=name).where(Shop.id == self.shop.id).execute()

    def test_visitors_share_the_detail_until_it_is_older_than_the_setting(self):
        assert self.detail()["shops"][0]["name"] == "静安店"
        self.change_behind_our_back("静安二店")
        self.clock.now += self.ttl - 0.1
        assert self.detail()["shops"][0]["name"] == "静安店"
        self.clock.now += 0.2  # older than ALLIANCE_DETAIL_CACHE_SECONDS
        assert self.detail()["shops"][0]["name"] == "静安二店"

    def test_other_processes_changes_arrive_through_the_feed(self):
        feed = InvalidationFeed()
        feed.poll_quietly()  # a process's first poll starts its feed
        with db.connection_context():
            feed.poll()  # the set-up's own writes
        self.detail()
        self.change_behind_our_back("静安二店")
        with db.connection_context():  # what forget_merchant_detail wrote in that process
            CacheInvalidation.create(cache="merchant_detail", key=str(self.merchant.id))
        assert self.detail()["shops"][0]["name"] == "静安店"
        with db.connection_context():
            assert feed.poll() == 1
            assert feed.poll() == 0  # each row once
        assert self.detail()["shops"][0]["name"] == "静安二店"

    def test_a_change_committed_late_still_arrives(self):
        feed = InvalidationFeed()
        with db.connection_context():
            feed.poll()
            feed.poll()
            # A transaction that wrote its row 20 s ago commits only now.
            CacheInvalidation.create(cache="merchant_detail", key=str(self.merchant.id),
                                     created_at=dt.datetime.utcnow() - dt.timedelta(seconds=20))
            assert feed.poll() == 1

    def test_feed_rows_are_written_with_the_change_and_purged_after_an_hour(self):
        self.api("PATCH", f"/api/v1/merchant/shops/{self.shop.id}", {"name": "新店名"},
                 token=self.owner)
        with db.connection_context():
            rows = [(r.cache, r.key) for r in CacheInvalidation.select()]
            assert ("merchant_detail", str(self.merchant.id)) in rows
            assert purge_invalidations() == 0
            CacheInvalidation.update(
                created_at=dt.datetime.utcnow() - dt.timedelta(hours=1, minutes=1)).execute()
            assert purge_invalidations() == len(rows)

    def test_a_shop_opening_within_the_lifetime_ends_the_cached_page_then(self):
        self.clock.utc = dt.datetime(2026, 11, 30, 1, 59, 30)  # Monday 09:59:30 in Shanghai
        with db.connection_context():
            Shop.update(opening_hours=json.dumps({"mon": [["10:00", "22:00"]]})).where(
                Shop.id == self.shop.id).execute()
        assert self.detail()["shops"][0]["open_now"] is False
        self.clock.now += 29
        assert self.detail()["shops"][0]["open_now"] is False
        self.clock.now += 1  # 10:00:00
        assert self.detail()["shops"][0]["open_now"] is True

    def test_a_claim_window_opening_within_the_lifetime_ends_the_cached_page_then(self):
        self.clock.utc = dt.datetime(2026, 11, 30, 1, 59, 30)
        opens = "2026-11-30T10:00:00+08:00"
        created = self.api("POST", "/api/v1/merchant/coupon-templates",
                           {**TEMPLATE, "claim_starts_at": opens}, token=self.owner)
        assert created.status == 201, created.body
        assert self.detail()["coupon_templates"] == []
        self.clock.now += 29
        assert self.detail()["coupon_templates"] == []
        self.clock.now += 1
        assert [t["id"] for t in self.detail()["coupon_templates"]] == [created.json["id"]]

    def test_no_caching_when_the_setting_is_zero(self):
        queries.PUBLIC_DETAILS.configure(0)
        self.addCleanup(queries.PUBLIC_DETAILS.configure, self.settings.detail_cache_seconds)
        self.detail()
        self.change_behind_our_back("静安二店")
        assert self.detail()["shops"][0]["name"] == "静安二店"

    def test_shop_profile_and_coupon_changes_show_at_once(self):
        self.detail()
        renamed = self.api("PATCH", f"/api/v1/merchant/shops/{self.shop.id}",
                           {"name": "静安旗舰店"}, token=self.owner)
        assert renamed.status == 200, renamed.body
        assert self.detail()["shops"][0]["name"] == "静安旗舰店"
        profile = self.api("PATCH", "/api/v1/merchant/profile", {"intro": "新的介绍"},
                           token=self.owner)
        assert profile.status == 200, profile.body
        assert self.detail()["intro"] == "新的介绍"
        created = self.api("POST", "/api/v1/merchant/coupon-templates", TEMPLATE,
                           token=self.owner)
        assert created.status == 201, created.body
        offers = self.detail()["coupon_templates"]
        assert [offer["id"] for offer in offers] == [created.json["id"]]
        paused = self.api("PATCH", f"/api/v1/merchant/coupon-templates/{created.json['id']}",
                          {"status": "paused"}, token=self.owner)
        assert paused.status == 200, paused.body
        assert self.detail()["coupon_templates"] == []

    def test_a_suspended_merchant_disappears_at_once(self):
        self.detail()
        suspended = self.api("POST", f"/api/admin/v1/merchants/{self.merchant.id}/suspend",
                             {"reason": "违规经营"}, token=self.operator_token("operator"))
        assert suspended.status == 200, suspended.body
        self.assert_error(self.api("GET", self.path), 404, "MERCHANT_NOT_FOUND")

    def test_what_a_viewer_holds_is_theirs_although_the_public_part_is_shared(self):
        template = self.api("POST", "/api/v1/merchant/coupon-templates",
                            {**TEMPLATE, "per_user_limit": 1}, token=self.owner).json
        alice, bob = self.token("alice"), self.token("bob")
        assert self.detail()["coupon_templates"][0]["can_claim"] is True  # cached now
        claimed = self.api("POST", f"/api/v1/coupon-templates/{template['id']}/claim", {},
                           token=alice)
        assert claimed.status == 201, claimed.body
        mine = self.detail(token=alice)["coupon_templates"][0]
        assert mine["claimed_by_me"] == 1 and mine["can_claim"] is False
        theirs = self.detail(token=bob)["coupon_templates"][0]
        assert theirs["claimed_by_me"] == 0 and theirs["can_claim"] is True
        assert theirs["remaining"] == mine["remaining"] == 19  # signed in: counted now
        anonymous = self.detail()["coupon_templates"][0]
        assert anonymous["claimed_by_me"] == 0 and anonymous["can_claim"] is True
        assert anonymous["remaining"] == 20  # visitors: as cached, within the lifetime

    def test_signed_in_viewers_see_a_sold_out_coupon_at_once(self):
        template = self.api("POST", "/api/v1/merchant/coupon-templates",
                            {**TEMPLATE, "total_stock": 1}, token=self.owner).json
        alice, bob = self.token("alice"), self.token("bob")
        assert self.detail(token=bob)["coupon_templates"][0]["can_claim"] is True
        assert self.api("POST", f"/api/v1/coupon-templates/{template['id']}/claim", {},
                        token=alice).status == 201
        offer = self.detail(token=bob)["coupon_templates"][0]
        assert offer["remaining"] == 0 and offer["can_claim"] is False

    def test_distances_are_per_visitor_and_nearest_shop_first(self):
        with db.connection_context():
            far = make_shop(self.merchant, lat=31.30, lng=121.50, name="远处店")
        near_far = self.detail("?lat=31.2305&lng=121.4738")
        far_near = self.detail("?lat=31.3001&lng=121.5001")
        plain = self.detail()
        assert [s["id"] for s in near_far["shops"]] == [self.shop.id, far.id]
        assert [s["id"] for s in far_near["shops"]] == [far.id, self.shop.id]
        assert near_far["distance_m"] < 100 and far_near["distance_m"] < 100
        assert "distance_m" not in plain and all("distance_m" not in s for s in plain["shops"])
        assert [s["id"] for s in plain["shops"]] == [self.shop.id, far.id]

    def test_a_read_overtaken_by_a_write_is_not_kept(self):
        cache = queries.PUBLIC_DETAILS
        ticket = cache.ticket()  # a view starts reading ...
        with db.connection_context():
            Merchant.update(intro="新").where(Merchant.id == self.merchant.id).execute()
            queries.forget_merchant_detail(self.merchant.id)  # no transaction: at once
        cache.put(self.merchant.id, {"intro": "旧"}, ticket)  # ... and ends after the write
        assert cache.get(self.merchant.id) is None
        assert self.detail()["intro"] == "新"
        assert cache.get(self.merchant.id)["intro"] == "新"
