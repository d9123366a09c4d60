"""Operators' consumer management: the list with search and filters, one consumer, and the
behaviour analysis, as the console calls them."""
from __future__ import annotations

import datetime as dt
import re

from alliance.accounts.models import AccountMerge, User
from alliance.clock import SHANGHAI
from alliance.db import connection
from alliance.merchants.models import Shop
from alliance.referrals.models import ReferralAttribution
from tests.api import test_console
from tests.factories import make_item, make_merchant, make_shop, make_user
from tests.orders_support import OrderTestCase
from tests.support import ApiTestCase

USERS, STATS = "/api/admin/v1/users", "/api/admin/v1/user-stats"


def shanghai_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def utc_of_shanghai_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), SHANGHAI).astimezone(dt.timezone.utc) \
        .replace(tzinfo=None)


class ConsumersCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.operator = self.operator_token("operator")
        self.alice, self.bob = self.token("alice"), self.token("bob")
        self.alice_id, self.bob_id = self.user_id("alice"), self.user_id("bob")
        with connection():
            User.update(phone="13800138000", email="alice@example.com", nickname="小爱同学") \
                .where(User.id == self.alice_id).execute()
            User.update(nickname="小博").where(User.id == self.bob_id).execute()

    def users(self, query: str = "", token: str | None = None):
        return self.api("GET", f"{USERS}{query}", token=token or self.operator)

    def ids(self, query: str = "") -> list[int]:
        response = self.users(query)
        assert response.status == 200, response.body
        return [row["id"] for row in response.json["items"]]


class ListTest(ConsumersCase):
    def test_rows_are_masked_and_carry_paid_orders(self):
        paid = [self.paid_order(self.alice), self.paid_order(self.alice, self.service)]
        self.order(self.alice)  # unpaid: not counted
        response = self.users(f"?user_id={self.alice_id}")
        assert response.status == 200
        [row] = response.json["items"]
        assert row["phone"] == "138****8000" and row["email"] == "a***@example.com"
        assert b"13800138000" not in response.body and b"alice@example.com" not in response.body
        assert row["orders_paid"] == 2 and row["paid_fen"] == sum(o["paid_fen"] for o in paid)
        assert row["login_channels"] == ["miniprogram", "phone", "email"]
        assert row["status"] == "active" and row["registered_at"].endswith("+08:00")
        assert row["platform_level_name"] == "普通会员" and row["points_balance"] >= 0
        [bob] = self.users(f"?user_id={self.bob_id}").json["items"]
        assert bob["orders_paid"] == 0 and bob["paid_fen"] == 0 and bob["phone"] is None

    def test_search_by_phone_nickname_and_id(self):
        assert self.ids("?phone=13800138000") == [self.alice_id]
        assert self.ids("?phone=%2B86%20138-0013-8000") == [self.alice_id]
        assert self.ids("?phone=13900000000") == []
        assert self.ids("?nickname=%E5%B0%8F") == [self.bob_id, self.alice_id]  # 小
        assert self.ids("?nickname=%E5%B0%8F%E7%88%B1") == [self.alice_id]  # 小爱
        assert self.ids("?nickname=%25") == []  # a literal %, not a wildcard
        assert self.ids(f"?user_id={self.bob_id}") == [self.bob_id]

    def test_filters_by_registration_day_and_purchase(self):
        self.paid_order(self.bob)
        day = dt.date(2026, 3, 15)
        with connection():
            # 23:30 on the 14th in UTC is the 15th in Shanghai
            User.update(created_at=dt.datetime(2026, 3, 14, 23, 30)) \
                .where(User.id == self.alice_id).execute()
        assert self.ids(f"?registered_from={day}&registered_to={day}") == [self.alice_id]
        assert self.ids("?registered_to=2026-03-14") == []
        assert self.alice_id not in self.ids("?registered_from=2026-03-16")
        assert self.ids("?has_ordered=true") == [self.bob_id]
        assert self.bob_id not in self.ids("?has_ordered=false")
        assert self.alice_id in self.ids("?has_ordered=false")

    def test_pages_walk_every_user_once_newest_first(self):
        with connection():
            made = [make_user(f"翻页{n}").id for n in range(5)]
        seen, cursor = [], ""
        while True:
            response = self.users(f"?nickname=%E7%BF%BB%E9%A1%B5&limit=2{cursor}")
            assert response.status == 200
            seen += [row["id"] for row in response.json["items"]]
            if not response.json["next_cursor"]:
                break
            cursor = f"&cursor={response.json['next_cursor']}"
        assert seen == sorted(made, reverse=True)

    def test_bad_input_is_a_400_in_the_envelope(self):
        for query, code in [("?has_ordered=maybe", "VALIDATION_FAILED"),
                            ("?phone=12345", "PHONE_INVALID"),
                            ("?registered_from=2026-13-01", "VALIDATION_FAILED"),
                            ("?registered_from=2026-03-02&registered_to=2026-03-01",
                             "VALIDATION_FAILED"),
                            ("?user_id=abc", "VALIDATION_FAILED"),
                            ("?status=sleeping", "VALIDATION_FAILED"),
                            ("?cursor=%%%", "VALIDATION_FAILED"), ("?limit=0", "VALIDATION_FAILED"),
                            (f"?nickname={'x' * 65}", "VALIDATION_FAILED")]:
            with self.subTest(query=query):
                self.assert_error(self.users(query), 400, code)

    def test_a_merged_account_says_so(self):
        with connection():
            User.update(status="merged").where(User.id == self.bob_id).execute()
            AccountMerge.create(source_user=self.bob_id, target_user=self.alice_id,
                                reason="phone")
        [row] = self.users("?status=merged").json["items"]
        assert row["id"] == self.bob_id and row["merged_into"] == self.alice_id


class DetailTest(ConsumersCase):
    def test_one_consumer_with_memberships_points_orders_coupons_and_feedback(self):
        order = self.paid_order(self.alice)
        self.give_coupon("alice")
        self.api("POST", "/api/v1/complaints", {"category": "quality", "content": "面是凉的",
                                                "order_no": order["order_no"]}, token=self.alice)
        self.api("POST", f"/api/v1/orders/{order['order_no']}/after-sales",
                 {"reason": "不想要了"}, token=self.alice)
        with connection():  # her first paid order made her organic: bob brought her instead
            ReferralAttribution.delete().where(ReferralAttribution.invitee == self.alice_id) \
                .execute()
            ReferralAttribution.create(invitee=self.alice_id, status="converted",
                                       source_kind="user", referrer=self.bob_id,
                                       channel="miniprogram")
        response = self.api("GET", f"{USERS}/{self.alice_id}", token=self.operator)
        assert response.status == 200, response.body
        user = response.json
        assert user["phone"] == "138****8000" and b"13800138000" not in response.body
        assert user["orders"]["paid"] == 1 and user["orders"]["paid_fen"] == order["paid_fen"]
        assert [o["order_no"] for o in user["orders"]["recent"]] == [order["order_no"]]
        assert user["orders"]["recent"][0]["merchant_name"] == "老街面馆"
        assert [m["merchant_id"] for m in user["memberships"]] == [self.merchant.id]
        assert user["memberships"][0]["merchant_name"] == "老街面馆"
        assert user["points"]["balance"] == sum(e["amount"] for e in user["points"]["recent"])
        assert user["coupons"]["held"] == 1 and user["coupons"]["used"] == 0
        assert user["complaints"]["total"] == 1
        assert user["complaints"]["items"][0]["content"] == "面是凉的"
        assert user["after_sales"]["total"] == 1
        assert user["after_sales"]["items"][0]["order_no"] == order["order_no"]
        referred = user["referral"]["referred_by"]
        assert referred["referrer_user_id"] == self.bob_id and referred["referrer_nickname"] == "小博"
        bob = self.api("GET", f"{USERS}/{self.bob_id}", token=self.operator).json
        assert bob["referral"] == {"referred_by": None, "invited": 1, "invited_converted": 1}

    def test_unknown_consumer_is_a_404(self):
        self.assert_error(self.api("GET", f"{USERS}/999999", token=self.operator), 404,
                          "USER_NOT_FOUND")


class AuthorizationTest(ConsumersCase):
    def test_only_operators_with_the_permission_see_consumers(self):
        paths = [USERS, f"{USERS}/{self.alice_id}", STATS]
        for path in paths:
            with self.subTest(path=path):
                self.assert_error(self.api("GET", path), 401, "UNAUTHENTICATED")
                # a merchant owner's or a consumer's token is not an operator's
                for token in (self.owner_token(), self.alice):
                    self.assert_error(self.api("GET", path, token=token), 401, "TOKEN_INVALID")
        service = self.operator_token("customer_service")
        assert self.api("GET", USERS, token=service).status == 200
        assert self.api("GET", f"{USERS}/{self.alice_id}", token=service).status == 200
        refused = self.api("GET", STATS, token=service)
        self.assert_error(refused, 403, "FORBIDDEN")
        assert refused.json["error"]["details"]["permission"] == "admin:analytics"


class StatsTest(ConsumersCase):
    def setUp(self):
        super().setUp()
        with connection():
            Shop.update(address="上海市黄浦区南京西路 100 号") \
                .where(Shop.merchant == self.merchant).execute()
            salon_owner = make_user("理发店主")
            self.salon = make_merchant(owner=salon_owner, industry="beauty_hair", name="青丝")
            make_shop(self.salon)
            Shop.update(address="浙江省杭州市西湖区").where(Shop.merchant == self.salon).execute()
            self.haircut = make_item(self.salon, kind="service", price_fen=8000, stock=10)

    def test_behaviour_of_a_known_period(self):
        today = shanghai_today()
        carol = self.token("carol")
        zhejiang = {"contact": {"name": "爱", "phone": "13800138000",
                                "address": "浙江省宁波市海曙区 1 号"}}
        to_zhejiang = self.paid_order(self.alice, **zhejiang)["paid_fen"]  # goods
        noodles = self.paid_order(self.alice, self.service)["paid_fen"]  # the shop: Shanghai
        haircut = self.paid_order(self.bob, self.haircut)["paid_fen"]  # the salon: Zhejiang
        unknown = self.paid_order(self.bob, contact={"address": "黄浦区某路"})["paid_fen"]
        for _ in range(4):
            self.paid_order(carol, self.service)
        self.order(self.bob)  # unpaid: no purchase
        with connection():
            User.update(created_at=utc_of_shanghai_noon(today - dt.timedelta(days=1))) \
                .where(User.id == self.bob_id).execute()
        response = self.api("GET", f"{STATS}?from={today - dt.timedelta(days=2)}&to={today}",
                            token=self.operator)
        assert response.status == 200, response.body
        stats = response.json
        days = {d["date"]: d for d in stats["days"]}
        assert len(days) == 3
        assert days[str(today - dt.timedelta(days=1))]["registrations"] == 1
        assert days[str(today)]["orders"] == 8 and days[str(today)]["buyers"] == 3
        totals = stats["totals"]
        assert totals["buyers"] == 3 and totals["orders"] == 8
        assert haircut == 8000 and noodles == 5000
        assert totals["paid_fen"] == to_zhejiang + haircut + unknown + 5 * noodles
        assert totals["repeat_buyers"] == 3 and totals["repeat_rate"] == 1.0
        assert {b["bucket"]: b["buyers"] for b in stats["frequency"]} == {
            "1": 0, "2-3": 2, "4-9": 1, "10+": 0}
        assert [(i["industry"], i["industry_name"], i["orders"], i["paid_fen"])
                for i in stats["industries"]] == [
            ("catering", "餐饮美食", 7, to_zhejiang + unknown + 5 * noodles),
            ("beauty_hair", "美容美发", 1, 8000)]
        assert [(r["province"], r["orders"], r["paid_fen"]) for r in stats["regions"]] == [
            ("上海市", 5, 5 * noodles), ("浙江省", 2, to_zhejiang + haircut), ("未知", 1, unknown)]
        assert stats["region_basis"] == {"delivery_address": 1, "shop": 6, "unknown": 1}

    def test_a_buyer_with_one_order_is_not_a_repeat_buyer(self):
        self.paid_order(self.alice)
        totals = self.api("GET", STATS, token=self.operator).json["totals"]
        assert totals["buyers"] == 1 and totals["repeat_rate"] == 0.0

    def test_period_is_at_most_92_days(self):
        ok = self.api("GET", f"{STATS}?from=2026-01-01&to=2026-04-02", token=self.operator)
        assert ok.status == 200 and len(ok.json["days"]) == 92
        too_long = self.api("GET", f"{STATS}?from=2026-01-01&to=2026-04-03",
                            token=self.operator)
        self.assert_error(too_long, 400, "VALIDATION_FAILED")
        assert too_long.json["error"]["details"]["max_days"] == 92
        for query in ("?from=2026-02-30", "?from=2026-03-02&to=2026-03-01", "?to=yesterday"):
            with self.subTest(query=query):
                self.assert_error(self.api("GET", f"{STATS}{query}", token=self.operator), 400,
                                  "VALIDATION_FAILED")


class ConsolePageTest(ApiTestCase):
    scripts = test_console.ConsoleContractTest.scripts
    documented = test_console.ConsoleContractTest.documented

    def test_the_console_has_a_consumer_page_calling_the_documented_paths(self):
        scripts = self.scripts()
        page = scripts.get("/console/static/pages-users.js")
        assert page is not None, list(scripts)
        assert 'title: "消费者管理", permission: "admin:consumers"' in page
        documented = self.documented()
        for path in ("/api/admin/v1/users", "/api/admin/v1/users/{}", "/api/admin/v1/user-stats"):
            assert "GET" in documented[path], path
            assert any(test_console.normalise(p) == path for p in re.findall(r"""["'`](/api/[^"'`?\s]*)""",
                                                                 page)), path
        for chart in ("Charts.line(", "Charts.bar(", "Charts.pie("):
            assert chart in page, chart
