"""Staff of merchant A can neither read nor change anything of merchant B; a clerk cannot
edit the catalog, the shops or the staff."""
from alliance.catalog.models import CatalogItem
from alliance.db import db
from alliance.merchants.models import Shop, StaffInvite, StaffMembership
from tests.api.merchant_support import StaffedMerchantsTestCase

# (method, path template, body, expected code for owner/manager, for clerk)
CROSS_MERCHANT = [
    ("GET", "/api/v1/merchant/shops/{shop}", None, "SHOP_NOT_FOUND", "SHOP_NOT_FOUND"),
    ("PATCH", "/api/v1/merchant/shops/{shop}", {"name": "抢来的店"}, "SHOP_NOT_FOUND", "FORBIDDEN"),
    ("GET", "/api/v1/merchant/items/{item}", None, "ITEM_NOT_FOUND", "ITEM_NOT_FOUND"),
    ("PATCH", "/api/v1/merchant/items/{item}", {"description": "x"}, "ITEM_NOT_FOUND", "FORBIDDEN"),
    ("POST", "/api/v1/merchant/items/{item}/off-shelf", {}, "ITEM_NOT_FOUND", "FORBIDDEN"),
    ("POST", "/api/v1/merchant/items/{item}/stock", {"delta": -5}, "ITEM_NOT_FOUND", "FORBIDDEN"),
    ("POST", "/api/v1/merchant/items/{item}/submit", {}, "ITEM_NOT_FOUND", "FORBIDDEN"),
]
# Owner-only endpoints: the owner gets not-found, manager and clerk are forbidden.
CROSS_MERCHANT_OWNER = [
    ("DELETE", "/api/v1/merchant/staff-invites/{invite}", None, "INVITE_INVALID"),
    ("GET", "/api/v1/merchant/staff-invites/{invite}/qrcode", None, "INVITE_INVALID"),
    ("DELETE", "/api/v1/merchant/staff/{clerk_user}", None, "STAFF_NOT_FOUND"),
    ("PATCH", "/api/v1/merchant/staff/{clerk_user}", {"role": "merchant_manager"},
     "STAFF_NOT_FOUND"),
]
# Naming merchant B explicitly.
CHOOSING_B = ["/api/v1/merchant/profile", "/api/v1/merchant/shops", "/api/v1/merchant/items",
              "/api/v1/merchant/staff", "/api/v1/merchant/staff-invites",
              "/api/v1/merchant/application", "/api/v1/merchant/member-day"]
STATUS = {"SHOP_NOT_FOUND": 404, "ITEM_NOT_FOUND": 404, "INVITE_INVALID": 404,
          "STAFF_NOT_FOUND": 404, "FORBIDDEN": 403, "NOT_MERCHANT_STAFF": 403}


class CrossMerchantTest(StaffedMerchantsTestCase):
    def _b_unchanged(self):
        b = self.ids["b"]
        with db.connection_context():
            shop, item = Shop.get_by_id(b["shop"]), CatalogItem.get_by_id(b["item"])
            invite = StaffInvite.get_by_id(b["invite"])
            clerk = StaffMembership.get(StaffMembership.user == b["clerk_user"])
        assert shop.name != "抢来的店" and item.description == "" and item.stock == 5
        assert item.status == "on_shelf" and invite.revoked_at is None
        assert clerk.status == "active" and clerk.role == "merchant_clerk"

    def test_staff_of_a_cannot_touch_objects_of_b(self):
        for role in ("owner", "manager", "clerk"):
            token = self.tokens[f"a-{role}"]
            for method, template, body, code, clerk_code in CROSS_MERCHANT:
                expected = clerk_code if role == "clerk" else code
                response = self.api(method, template.format(**self.ids["b"]), body, token=token)
                self.assert_error(response, STATUS[expected], expected)
            for method, template, body, code in CROSS_MERCHANT_OWNER:
                expected = code if role == "owner" else "FORBIDDEN"
                response = self.api(method, template.format(**self.ids["b"]), body, token=token)
                self.assert_error(response, STATUS[expected], expected)
        self._b_unchanged()

    def test_staff_of_a_cannot_choose_merchant_b(self):
        b = self.ids["b"]["merchant"]
        for role in ("owner", "manager", "clerk"):
            for path in CHOOSING_B:
                response = self.api("GET", f"{path}?merchant_id={b}",
                                    token=self.tokens[f"a-{role}"])
                self.assert_error(response, 403, "NOT_MERCHANT_STAFF")
            header = self.api("GET", "/api/v1/merchant/items", token=self.tokens[f"a-{role}"],
                              headers={"X-Merchant-Id": str(b)})
            self.assert_error(header, 403, "NOT_MERCHANT_STAFF")

    def test_lists_show_only_ones_own_merchant(self):
        a = self.ids["a"]
        for role in ("owner", "manager", "clerk"):
            token = self.tokens[f"a-{role}"]
            items = self.api("GET", "/api/v1/merchant/items", token=token).json["items"]
            shops = self.api("GET", "/api/v1/merchant/shops", token=token).json["items"]
            staff = self.api("GET", "/api/v1/merchant/staff", token=token).json["items"]
            assert [i["id"] for i in items] == [a["item"]]
            assert [s["id"] for s in shops] == [a["shop"]]
            assert {s["user_id"] for s in staff} >= {a["clerk_user"]}
            assert self.ids["b"]["clerk_user"] not in {s["user_id"] for s in staff}


CLERK_FORBIDDEN = [
    ("POST", "/api/v1/merchant/items", {"kind": "goods", "name": "x", "price_fen": 100}),
    ("PATCH", "/api/v1/merchant/items/{item}", {"price_fen": 1}),
    ("POST", "/api/v1/merchant/items/{item}/off-shelf", {}),
    ("POST", "/api/v1/merchant/items/{item}/stock", {"delta": 1}),
    ("POST", "/api/v1/merchant/shops", {"name": "x", "address": "y", "lat": 31.2, "lng": 121.4}),
    ("PATCH", "/api/v1/merchant/shops/{shop}", {"name": "x"}),
    ("PATCH", "/api/v1/merchant/profile", {"intro": "x"}),
    ("POST", "/api/v1/merchant/staff-invites", {"role": "merchant_clerk"}),
    ("GET", "/api/v1/merchant/staff-invites", None),
    ("GET", "/api/v1/merchant/application", None),
    ("PUT", "/api/v1/merchant/application", {}),  # refused before the form is read
]


class ClerkTest(StaffedMerchantsTestCase):
    def test_clerk_cannot_edit_the_catalog_shops_or_staff(self):
        token = self.tokens["a-clerk"]
        for method, template, body in CLERK_FORBIDDEN:
            response = self.api(method, template.format(**self.ids["a"]), body, token=token)
            self.assert_error(response, 403, "FORBIDDEN")
        with db.connection_context():
            item = CatalogItem.get_by_id(self.ids["a"]["item"])
            assert item.price_fen == 1000 and item.status == "on_shelf" and item.stock == 5
            assert CatalogItem.select().count() == 2

    def test_clerk_may_read_the_catalog_and_shops(self):
        token = self.tokens["a-clerk"]
        assert self.api("GET", f"/api/v1/merchant/items/{self.ids['a']['item']}",
                        token=token).status == 200
        assert self.api("GET", "/api/v1/merchant/shops", token=token).status == 200


class ManagerTest(StaffedMerchantsTestCase):
    def test_manager_edits_the_catalog_but_not_the_staff(self):
        token = self.tokens["a-manager"]
        response = self.api("PATCH", f"/api/v1/merchant/items/{self.ids['a']['item']}",
                            {"description": "新描述"}, token=token)
        assert response.status == 200 and response.json["description"] == "新描述"
        self.assert_error(self.api("POST", "/api/v1/merchant/staff-invites",
                                   {"role": "merchant_clerk"}, token=token), 403, "FORBIDDEN")
