"""Nobody reads or changes another principal's objects, over HTTP: a consumer another's orders,
after-sales, coupons and list rows; a merchant's staff another merchant's orders, after-sales,
reviews, coupon templates and redemptions; a clerk the owner's and managers' actions; an
operator what the role table (alliance.accounts.permissions) does not grant. Each refusal is
the error envelope's code, and the refused request changes no row (tests/api/
test_authorization_matrix.py covers the catalog, shops, staff and the merchant choice)."""
from alliance.accounts.models import Operator, User
from alliance.accounts.permissions import OPERATOR_ROLES, role_allows
from alliance.commissions.models import CommissionEntry
from alliance.coupons.claims import claim
from alliance.coupons.models import Coupon, CouponDistribution, CouponTemplate
from alliance.db import connection
from alliance.members.models import MerchantLevelRule, MerchantMember, PointsAward
from alliance.merchants.models import Merchant, Shop, StaffMembership
from alliance.officialaccount.models import OaAutoReply
from alliance.orders.aftersale_models import AfterSale, Complaint, Review
from alliance.orders.models import Order, PaymentAttempt, Refund
from alliance.points.models import PointsEntry
from alliance.platform.models import PlatformSettings
from alliance.pushes.models import MerchantPush
from alliance.redemptions.models import Redemption
from alliance.referrals.models import ReferralAttribution
from tests.api.test_coupons import TEMPLATE
from tests.factories import make_merchant, make_shop, make_template
from tests.orders_support import OrderTestCase

STATUS = {"ORDER_NOT_FOUND": 404, "AFTER_SALE_NOT_FOUND": 404, "COUPON_NOT_FOUND": 404,
          "REVIEW_NOT_FOUND": 404, "COUPON_TEMPLATE_NOT_FOUND": 404,
          "COUPON_DISTRIBUTION_NOT_FOUND": 404, "REDEMPTION_NOT_FOUND": 404,
          "SHOP_NOT_FOUND": 404, "CODE_NOT_VALID_HERE": 422, "FORBIDDEN": 403}
SHIPMENT = {"carrier": "顺丰", "tracking_no": "SF1234567890"}
LEVEL_RULES = {"levels": [{"name": "银卡", "min_spent_fen": 10_000, "discount_percent": 5,
                           "points_multiplier_pct": 150}]}


def rows(*models) -> dict:
    """Every row of ``models``, to compare before and after refused requests."""
    with connection():
        return {model.__name__: list(model.select().order_by(model.id).dicts())
                for model in models}


class ObjectsCase(OrderTestCase):
    """The merchant of OrderTestCase (A: goods at 30.00 yuan) and helpers that act as its
    buyers and staff would."""

    watched: tuple = ()  # the models whose rows a refused request must leave alone

    def refuse(self, method: str, path: str, body, token: str, code: str) -> None:
        with self.subTest(method=method, path=path):
            self.assert_error(self.api(method, path, body, token=token), STATUS[code], code)

    def snapshot(self) -> dict:
        return rows(*self.watched)

    def ship(self, staff: str, order_no: str) -> None:
        response = self.api("POST", f"/api/v1/merchant/orders/{order_no}/shipment", SHIPMENT,
                            token=staff)
        assert response.status == 200, response.body

    def after_sale(self, buyer: str, order_no: str) -> int:
        response = self.api("POST", f"/api/v1/orders/{order_no}/after-sales",
                            {"reason": "不想要了"}, token=buyer)
        assert response.status == 201, response.body
        return response.json["id"]

    def complaint(self, buyer: str, order_no: str) -> int:
        response = self.api("POST", "/api/v1/complaints",
                            {"category": "quality", "content": "面是凉的", "order_no": order_no},
                            token=buyer)
        assert response.status == 201, response.body
        return response.json["id"]

    def staff_of(self, merchant, role: str, name: str) -> str:
        login = self.login(name)
        with connection():
            StaffMembership.create(merchant=merchant, user=login["user"]["id"], role=role)
        return login["access_token"]


# --- consumers ---------------------------------------------------------------------------

def buyer_requests(a: dict) -> list:
    """(method, path, body, code) of another buyer's requests naming A's objects."""
    shipped, unpaid, after_sale = a["shipped"], a["unpaid"], a["after_sale"]
    return [
        ("GET", f"/api/v1/orders/{shipped}", None, "ORDER_NOT_FOUND"),
        ("POST", f"/api/v1/orders/{unpaid}/payments", {"channel": "wechatpay"},
         "ORDER_NOT_FOUND"),
        ("POST", f"/api/v1/orders/{unpaid}/cancel", {}, "ORDER_NOT_FOUND"),
        ("POST", f"/api/v1/orders/{shipped}/receipt", {}, "ORDER_NOT_FOUND"),
        ("POST", f"/api/v1/orders/{shipped}/after-sales", {"reason": "抢来的"},
         "ORDER_NOT_FOUND"),
        ("POST", f"/api/v1/orders/{shipped}/reviews", {"line_id": a["line"], "rating": 1},
         "ORDER_NOT_FOUND"),
        ("POST", "/api/v1/complaints",
         {"category": "quality", "content": "x", "order_no": shipped}, "ORDER_NOT_FOUND"),
        ("GET", f"/api/v1/after-sales/{after_sale}", None, "AFTER_SALE_NOT_FOUND"),
        ("POST", f"/api/v1/after-sales/{after_sale}/withdrawal", {}, "AFTER_SALE_NOT_FOUND"),
        ("POST", f"/api/v1/after-sales/{after_sale}/return-shipment", SHIPMENT,
         "AFTER_SALE_NOT_FOUND"),
        ("POST", f"/api/v1/after-sales/{after_sale}/arbitration", {"reason": "x"},
         "AFTER_SALE_NOT_FOUND"),
    ]


class ConsumerObjectsTest(ObjectsCase):
    """Alice (A) has an unpaid order, a shipped one, one with an open after-sale request, a
    coupon, a complaint, points and an invitee; Bob (B) has one of each of his own."""

    watched = (Order, PaymentAttempt, Refund, AfterSale, Review, Complaint, Coupon, PointsEntry,
               ReferralAttribution)

    def setUp(self):
        super().setUp()
        staff = self.owner_token()
        self.alice, self.bob = self.token("alice"), self.token("bob")
        shipped = self.paid_order(self.alice)
        self.ship(staff, shipped["order_no"])
        disputed = self.paid_order(self.alice)["order_no"]
        self.a = {"unpaid": self.order(self.alice)["order_no"],
                  "shipped": shipped["order_no"], "line": shipped["items"][0]["line_id"],
                  "after_sale": self.after_sale(self.alice, disputed),
                  "complaint": self.complaint(self.alice, shipped["order_no"]),
                  "coupon": self.give_coupon("alice"), "invitee": self.invite("alice", "carol")}
        own = self.paid_order(self.bob)["order_no"]
        self.b = {"orders": [own], "after_sales": [self.after_sale(self.bob, own)],
                  "complaints": [self.complaint(self.bob, own)],
                  "coupons": [self.give_coupon("bob", discount_fen=300)]}

    def invite(self, referrer: str, invitee: str) -> int:
        scene = self.api("GET", "/api/v1/me/referral-qrcode?format=svg",
                         token=self.token(referrer)).headers["X-Referral-Scene"]
        login = self.login(invitee)
        response = self.api("POST", "/api/v1/me/attribution", {"scene": scene},
                            token=login["access_token"])
        assert response.status == 200 and response.json["attributed"], response.body
        return login["user"]["id"]

    def test_another_buyers_orders_and_after_sales_are_not_found(self):
        before = self.snapshot()
        for method, path, body, code in buyer_requests(self.a):
            self.refuse(method, path, body, self.bob, code)
        assert self.snapshot() == before
        assert self.get_order(self.alice, self.a["shipped"])["status"] == "shipped"

    def test_another_buyers_coupon_is_not_found_at_checkout(self):
        basket = {"items": [{"item_id": self.goods.id, "quantity": 1}]}
        before, stock = self.snapshot(), self.stock(self.goods)
        for path in ("/api/v1/orders/quote", "/api/v1/orders"):
            for coupons in ({"coupon_id": self.a["coupon"]},
                            {"coupon_ids": [self.b["coupons"][0], self.a["coupon"]]}):
                self.refuse("POST", path, {**basket, **coupons}, self.bob, "COUPON_NOT_FOUND")
        assert self.snapshot() == before and self.stock(self.goods) == stock
        assert self.coupon_status(self.a["coupon"]) == "active"

    def test_ones_own_lists_hold_only_ones_own_rows(self):
        def listed(path: str, token: str, key: str = "id") -> list:
            response = self.api("GET", path, token=token)
            assert response.status == 200, response.body
            return [row[key] for row in response.json["items"]]

        bob_id = self.user_id("bob")
        with connection():
            bob_points = {e.id for e in PointsEntry.select().where(PointsEntry.user_id == bob_id)}
        expected = [("/api/v1/orders", "order_no", self.b["orders"]),
                    ("/api/v1/after-sales", "id", self.b["after_sales"]),
                    ("/api/v1/complaints", "id", self.b["complaints"]),
                    ("/api/v1/me/coupons", "id", self.b["coupons"]),
                    ("/api/v1/me/points", "id", sorted(bob_points, reverse=True))]
        for path, key, mine in expected:
            with self.subTest(path=path):
                assert listed(path, self.bob, key) == mine
        assert bob_points  # Bob's paid order earned him points: the list is not empty
        invitees = self.api("GET", "/api/v1/me/invitees", token=self.bob).json
        assert invitees["items"] == [] and invitees["summary"]["invitees"] == 0
        # Alice's own lists do hold her rows (so the lists above are not empty by accident).
        assert self.a["shipped"] in listed("/api/v1/orders", self.alice, "order_no")
        assert listed("/api/v1/after-sales", self.alice) == [self.a["after_sale"]]
        assert listed("/api/v1/complaints", self.alice) == [self.a["complaint"]]
        assert listed("/api/v1/me/coupons", self.alice) == [self.a["coupon"]]
        assert [i["invitee"]["id"] for i in self.api("GET", "/api/v1/me/invitees",
                                                     token=self.alice).json["items"]] == [
            self.a["invitee"]]


# --- merchant staff -----------------------------------------------------------------------

class MerchantObjectsCase(ObjectsCase):
    """Merchant A (OrderTestCase's) with an owner and a clerk, and everything staff act on:
    a paid order, an open after-sale request, a review, a coupon template distributed by a
    third merchant, a redemption and an unredeemed merchant-only coupon of Alice's. Merchant B
    with an owner, a manager, a clerk and a shop; one of its coupons is Alice's too."""

    watched = (Order, PaymentAttempt, Refund, AfterSale, Review, CouponTemplate,
               CouponDistribution, Coupon, Redemption, CommissionEntry, MerchantPush,
               MerchantLevelRule, MerchantMember, PointsAward, PointsEntry)

    def setUp(self):
        super().setUp()
        alice = self.login("alice")
        self.alice, alice_id = alice["access_token"], alice["user"]["id"]
        self.a_owner = self.owner_token()
        self.a_clerk = self.staff_of(self.merchant, "merchant_clerk", "a-clerk")
        b_owner = self.login("b-owner")
        with connection():
            self.merchant_b = make_merchant(owner=User.get_by_id(b_owner["user"]["id"]),
                                            name="商户B")
            make_shop(self.merchant_b)
            partner = make_merchant(name="合作商户C")
        self.b_staff = {"owner": b_owner["access_token"],
                        "manager": self.staff_of(self.merchant_b, "merchant_manager", "b-mgr"),
                        "clerk": self.staff_of(self.merchant_b, "merchant_clerk", "b-clerk")}

        order, disputed = (self.paid_order(self.alice)["order_no"] for _ in range(2))
        reviewed = self.paid_order(self.alice)
        self.ship(self.a_owner, reviewed["order_no"])
        received = self.api("POST", f"/api/v1/orders/{reviewed['order_no']}/receipt", {},
                            token=self.alice)
        assert received.status == 200, received.body
        review = self.api("POST", f"/api/v1/orders/{reviewed['order_no']}/reviews",
                          {"line_id": reviewed["items"][0]["line_id"], "rating": 5},
                          token=self.alice)
        assert review.status == 201, review.body
        template = self.api("POST", "/api/v1/merchant/coupon-templates",
                            {**TEMPLATE, "channels": ["own", "partner"]}, token=self.a_owner)
        assert template.status == 201, template.body
        distribution = self.api(
            "POST", f"/api/v1/merchant/coupon-templates/{template.json['id']}/distributions",
            {"merchant_id": partner.id, "commission_fen": 100}, token=self.a_owner)
        assert distribution.status == 201, distribution.body
        with connection():
            templates = [make_template(m) for m in (self.merchant, self.merchant, self.merchant_b)]
            codes = [claim(t.id, alice_id).code for t in templates]
            shop = Shop.get(Shop.merchant == self.merchant).id
        redeemed = self.api("POST", "/api/v1/merchant/redemptions", {"code": codes[1]},
                            token=self.a_owner)
        assert redeemed.status == 201, redeemed.body
        self.a = {"order": order, "after_sale": self.after_sale(self.alice, disputed),
                  "review": review.json["id"], "template": template.json["id"],
                  "distribution": distribution.json["id"], "code": codes[0],
                  "redemption": redeemed.json["id"], "shop": shop}
        self.b = {"code": codes[2], "template": templates[2].id}

    def member_code(self) -> str:
        return self.api("GET", "/api/v1/me/member-code", token=self.alice).json["payload"]


def cross_merchant_requests(a: dict, b_merchant: int) -> list:
    """(method, path, body, code for B's owner and manager, code for B's clerk)."""
    order, after_sale, template = a["order"], a["after_sale"], a["template"]
    return [
        ("GET", f"/api/v1/merchant/orders/{order}", None, "ORDER_NOT_FOUND", "ORDER_NOT_FOUND"),
        ("POST", f"/api/v1/merchant/orders/{order}/confirm", {}, "ORDER_NOT_FOUND", "FORBIDDEN"),
        ("POST", f"/api/v1/merchant/orders/{order}/shipment", SHIPMENT, "ORDER_NOT_FOUND",
         "FORBIDDEN"),
        ("POST", f"/api/v1/merchant/orders/{order}/refunds", {"amount_fen": 100, "reason": "x"},
         "ORDER_NOT_FOUND", "FORBIDDEN"),
        ("GET", f"/api/v1/merchant/after-sales/{after_sale}", None, "AFTER_SALE_NOT_FOUND",
         "AFTER_SALE_NOT_FOUND"),
        ("POST", f"/api/v1/merchant/after-sales/{after_sale}/decision", {"approve": True},
         "AFTER_SALE_NOT_FOUND", "FORBIDDEN"),
        ("POST", f"/api/v1/merchant/after-sales/{after_sale}/return-receipt", {},
         "AFTER_SALE_NOT_FOUND", "FORBIDDEN"),
        ("POST", f"/api/v1/merchant/reviews/{a['review']}/reply", {"reply": "抢来的回复"},
         "REVIEW_NOT_FOUND", "FORBIDDEN"),
        ("GET", f"/api/v1/merchant/coupon-templates/{template}", None,
         "COUPON_TEMPLATE_NOT_FOUND", "COUPON_TEMPLATE_NOT_FOUND"),
        ("PATCH", f"/api/v1/merchant/coupon-templates/{template}",
         {"name": "抢来的券", "total_stock": 1}, "COUPON_TEMPLATE_NOT_FOUND", "FORBIDDEN"),
        ("GET", f"/api/v1/merchant/coupon-templates/{template}/distributions", None,
         "COUPON_TEMPLATE_NOT_FOUND", "COUPON_TEMPLATE_NOT_FOUND"),
        ("POST", f"/api/v1/merchant/coupon-templates/{template}/distributions",
         {"merchant_id": b_merchant, "commission_fen": 0}, "COUPON_TEMPLATE_NOT_FOUND",
         "FORBIDDEN"),
        ("DELETE", f"/api/v1/merchant/coupon-distributions/{a['distribution']}", None,
         "COUPON_DISTRIBUTION_NOT_FOUND", "FORBIDDEN"),
        ("POST", "/api/v1/merchant/redemptions", {"code": a["code"]}, "CODE_NOT_VALID_HERE",
         "CODE_NOT_VALID_HERE"),
        ("POST", f"/api/v1/merchant/redemptions/{a['redemption']}/undo", {},
         "REDEMPTION_NOT_FOUND", "FORBIDDEN"),
    ]


class CrossMerchantObjectsTest(MerchantObjectsCase):
    def test_staff_of_b_cannot_read_or_change_the_objects_of_a(self):
        before = self.snapshot()
        for role, token in self.b_staff.items():
            for method, path, body, code, clerk_code in cross_merchant_requests(
                    self.a, self.merchant_b.id):
                self.refuse(method, path, body, token,
                            clerk_code if role == "clerk" else code)
        assert self.snapshot() == before

    def test_lists_of_b_do_not_show_the_objects_of_a(self):
        # (path, the ids B lists: none of A's orders, after-sales, distributions, redemptions
        # or members; of the coupon templates only B's own)
        lists = [(f"/api/v1/merchant/orders?order_no={self.a['order']}", []),
                 ("/api/v1/merchant/orders", []), ("/api/v1/merchant/after-sales", []),
                 ("/api/v1/merchant/coupon-templates", [self.b["template"]]),
                 ("/api/v1/merchant/coupon-distributions", []),
                 ("/api/v1/merchant/redemptions", []), ("/api/v1/merchant/members", [])]
        for role, token in self.b_staff.items():
            for path, expected in lists:
                with self.subTest(role=role, path=path):
                    response = self.api("GET", path, token=token)
                    assert response.status == 200, response.body
                    key = "user_id" if path.endswith("/members") else "id"
                    assert [row[key] for row in response.json["items"]] == expected
        # A's own staff see them (so the lists above are not empty by accident).
        mine = self.api("GET", f"/api/v1/merchant/orders?order_no={self.a['order']}",
                        token=self.a_clerk).json["items"]
        assert [o["order_no"] for o in mine] == [self.a["order"]]

    def test_a_shop_of_a_is_not_found_at_the_counter_of_b(self):
        before = self.snapshot()
        for role, token in self.b_staff.items():
            self.refuse("POST", "/api/v1/merchant/redemptions",
                        {"code": self.b["code"], "shop_id": self.a["shop"]}, token,
                        "SHOP_NOT_FOUND")
            self.refuse("POST", "/api/v1/merchant/points-awards",
                        {"payload": self.member_code(), "amount_fen": 10_000,
                         "shop_id": self.a["shop"]}, token, "SHOP_NOT_FOUND")
        assert self.snapshot() == before
        # The same coupon is redeemed at B's own counter: it was refused only for the shop.
        assert self.api("POST", "/api/v1/merchant/redemptions", {"code": self.b["code"]},
                        token=self.b_staff["clerk"]).status == 201


# (method, path, body, the permission the endpoint needs) of owner and manager actions.
CLERK_FORBIDDEN = [
    ("POST", "/api/v1/merchant/orders/{order}/confirm", {}, "merchant:orders"),
    ("POST", "/api/v1/merchant/orders/{order}/shipment", SHIPMENT, "merchant:orders"),
    ("POST", "/api/v1/merchant/orders/{order}/refunds", {"amount_fen": 100, "reason": "x"},
     "merchant:orders"),
    ("POST", "/api/v1/merchant/after-sales/{after_sale}/decision", {"approve": True},
     "merchant:orders"),
    ("POST", "/api/v1/merchant/after-sales/{after_sale}/return-receipt", {}, "merchant:orders"),
    ("POST", "/api/v1/merchant/reviews/{review}/reply", {"reply": "谢谢"}, "merchant:orders"),
    ("POST", "/api/v1/merchant/coupon-templates", TEMPLATE, "merchant:marketing"),
    ("PATCH", "/api/v1/merchant/coupon-templates/{template}", {"total_stock": 1},
     "merchant:marketing"),
    ("POST", "/api/v1/merchant/coupon-templates/{template}/distributions",
     {"merchant_id": 1, "commission_fen": 0}, "merchant:marketing"),
    ("DELETE", "/api/v1/merchant/coupon-distributions/{distribution}", None,
     "merchant:marketing"),
    ("GET", "/api/v1/merchant/pushes", None, "merchant:marketing"),
    ("POST", "/api/v1/merchant/pushes", {"title": "上新", "content": "新品到店"},
     "merchant:marketing"),
    ("PUT", "/api/v1/merchant/level-rules", LEVEL_RULES, "merchant:marketing"),
    ("PUT", "/api/v1/merchant/member-day", {"weekdays": [3], "points_multiplier_pct": 200},
     "merchant:marketing"),
    ("POST", "/api/v1/merchant/redemptions/{redemption}/undo", {}, "merchant:redeem:undo"),
    ("GET", "/api/v1/merchant/daily-sales", None, "merchant:finance"),
    ("GET", "/api/v1/merchant/insights", None, "merchant:finance"),
    ("GET", "/api/v1/merchant/sales-report", None, "merchant:finance"),
]
CLERK_READS = ["/api/v1/merchant/orders", "/api/v1/merchant/orders/{order}",
               "/api/v1/merchant/after-sales", "/api/v1/merchant/after-sales/{after_sale}",
               "/api/v1/merchant/coupon-templates", "/api/v1/merchant/coupon-templates/{template}",
               "/api/v1/merchant/coupon-templates/{template}/distributions",
               "/api/v1/merchant/coupon-distributions", "/api/v1/merchant/redemptions",
               "/api/v1/merchant/level-rules", "/api/v1/merchant/member-day",
               "/api/v1/merchant/members"]


class ClerkTest(MerchantObjectsCase):
    def test_a_clerk_cannot_act_as_owner_or_manager(self):
        before = self.snapshot()
        for method, path, body, permission in CLERK_FORBIDDEN:
            with self.subTest(method=method, path=path):
                response = self.api(method, path.format(**self.a), body, token=self.a_clerk)
                self.assert_error(response, 403, "FORBIDDEN")
                assert response.json["error"]["details"]["permission"] == permission
                assert not role_allows("merchant_clerk", permission)
        assert self.snapshot() == before

    def test_a_clerk_reads_what_the_role_allows(self):
        for path in CLERK_READS:
            with self.subTest(path=path):
                response = self.api("GET", path.format(**self.a), token=self.a_clerk)
                assert response.status == 200, response.body


# --- operators ----------------------------------------------------------------------------

# (path, the permission its handler in admin_api/ requires; None: any operator)
ADMIN_READS = [
    ("/api/admin/v1/me", None),
    ("/api/admin/v1/merchants", "admin:merchants"),
    ("/api/admin/v1/merchants/{merchant}", "admin:merchants"),
    ("/api/admin/v1/merchant-stats", "admin:merchants"),
    ("/api/admin/v1/shops/{shop}", "admin:merchants"),
    ("/api/admin/v1/items?review=pending", "admin:merchants"),
    ("/api/admin/v1/coupon-templates", "admin:campaigns"),
    ("/api/admin/v1/orders", "admin:orders"),
    ("/api/admin/v1/orders/{order}", "admin:orders"),
    ("/api/admin/v1/order-stats", "admin:orders"),
    ("/api/admin/v1/payment-notifications", "admin:orders"),
    ("/api/admin/v1/after-sales", "admin:complaints"),
    ("/api/admin/v1/complaints", "admin:complaints"),
    ("/api/admin/v1/daily-sales?merchant_id={merchant}", "admin:analytics"),
    ("/api/admin/v1/jobs", "admin:jobs"),
    ("/api/admin/v1/jobs/orders.close_unpaid/runs", "admin:jobs"),
    ("/api/admin/v1/oa/auto-replies", "admin:oa"),
    ("/api/admin/v1/campaign-joins?status=pending", "admin:campaigns"),
    ("/api/admin/v1/cooperations", "admin:merchants"),
    ("/api/admin/v1/users", "admin:consumers"),
    ("/api/admin/v1/user-stats", "admin:analytics"),
    ("/api/admin/v1/settings", "admin:settings"),
    ("/api/admin/v1/settings/privacy_policy/versions", "admin:settings"),
    ("/api/admin/v1/system", "admin:settings"),
    ("/api/admin/v1/operators", "admin:operators"),
    ("/api/admin/v1/roles", "admin:operators"),
]
# (method, path, body, permission) of changes, tried by the roles without the permission.
ADMIN_WRITES = [
    ("POST", "/api/admin/v1/merchants/{merchant}/suspend", {"reason": "违规经营"},
     "admin:merchants"),
    ("PATCH", "/api/admin/v1/shops/{shop}", {"name": "改名的店", "reason": "x"},
     "admin:merchants"),
    ("POST", "/api/admin/v1/items/{item}/take-down", {"reason": "违规"}, "admin:merchants"),
    ("POST", "/api/admin/v1/coupon-templates", {**TEMPLATE, "name": "平台券"},
     "admin:campaigns"),
    ("POST", "/api/admin/v1/after-sales/{after_sale}/arbitration",
     {"refund": True, "note": "支持退款"}, "admin:complaints"),
    ("POST", "/api/admin/v1/complaints/{complaint}/resolution",
     {"outcome": "resolved", "resolution": "已处理"}, "admin:complaints"),
    ("POST", "/api/admin/v1/oa/auto-replies", {"match": "exact", "keyword": "优惠",
                                                "reply_text": "x"}, "admin:oa"),
    ("PUT", "/api/admin/v1/settings", {"name": "改名的平台"}, "admin:settings"),
    ("POST", "/api/admin/v1/operators", {"username": "sneaky", "role": "administrator",
                                         "password": "correct-horse-42"}, "admin:operators"),
]


class OperatorRolesTest(ObjectsCase):
    """Each console role gets exactly what ROLE_PERMISSIONS grants it."""

    watched = (Merchant, Shop, CouponTemplate, AfterSale, Complaint, Refund, OaAutoReply,
               PlatformSettings, Operator)

    def setUp(self):
        super().setUp()
        alice = self.token("alice")
        order = self.paid_order(alice)["order_no"]
        with connection():
            shop = Shop.get(Shop.merchant == self.merchant).id
        self.ids = {"merchant": self.merchant.id, "shop": shop, "item": self.goods.id,
                    "order": order, "after_sale": self.after_sale(alice, order),
                    "complaint": self.complaint(alice, order)}
        self.operators = {role: self.operator_token(role) for role in OPERATOR_ROLES}

    def expect(self, response, role: str, permission: str | None) -> None:
        if permission is None or role_allows(role, permission):
            assert response.status == 200, response.body
        else:
            self.assert_error(response, 403, "FORBIDDEN")
            assert response.json["error"]["details"]["permission"] == permission

    def test_reads_follow_the_role_table(self):
        outcomes = set()
        for role, token in self.operators.items():
            for path, permission in ADMIN_READS:
                with self.subTest(role=role, path=path):
                    self.expect(self.api("GET", path.format(**self.ids), token=token), role,
                                permission)
                outcomes.add(permission is None or role_allows(role, permission))
        assert outcomes == {True, False}  # the table exercises both answers

    def test_changes_are_refused_to_roles_without_the_permission(self):
        before = self.snapshot()
        for method, path, body, permission in ADMIN_WRITES:
            refused = [role for role in OPERATOR_ROLES if not role_allows(role, permission)]
            assert refused, f"no role lacks {permission}: pick another change to try"
            for role in refused:
                with self.subTest(role=role, method=method, path=path):
                    response = self.api(method, path.format(**self.ids), body,
                                        token=self.operators[role])
                    self.expect(response, role, permission)
        assert self.snapshot() == before
