"""Helpers for the merchant API tests: uploads, applications, approved merchants."""
from __future__ import annotations

from alliance.merchants.identifiers import credit_code_check_char, id_number_check_char
from tests.support import ApiTestCase, multipart, png_bytes

VALID_ID = "11010519491231002X"


def credit_code(n: int) -> str:
    first17 = f"91310101MA{n:07d}"
    return first17 + credit_code_check_char(first17)


def id_number(n: int) -> str:
    first17 = f"3101011980010{n % 10}00"[:17]
    return first17 + id_number_check_char(first17)


class MerchantApiTestCase(ApiTestCase):
    def upload(self, token: str, purpose: str, data: bytes | None = None):
        body, headers = multipart({"purpose": purpose}, {"file": ("a.png", data or png_bytes())})
        return self.api("POST", "/api/v1/uploads", body=body, headers=headers, token=token)

    def upload_id(self, token: str, purpose: str) -> str:
        response = self.upload(token, purpose)
        assert response.status == 201, response.body
        return response.json["id"]

    def application(self, token: str, n: int = 1, **overrides) -> dict:
        form = {"name": f"测试商户{n}", "company_name": f"测试有限公司{n}",
                "credit_code": credit_code(n), "industry": "catering",
                "legal_rep_name": "张三", "legal_rep_id_number": VALID_ID,
                "licence_upload": self.upload_id(token, "licence"),
                "id_front_upload": self.upload_id(token, "id_card"),
                "id_back_upload": self.upload_id(token, "id_card"),
                "contact_phone": "13800138000"}
        form.update(overrides)
        return form

    def apply(self, token: str, n: int = 1, **overrides):
        return self.api("POST", "/api/v1/merchant-applications",
                        self.application(token, n, **overrides), token=token)

    def approved_merchant(self, owner: str, n: int = 1, operator: str | None = None) -> int:
        """Apply as ``owner`` and approve; the merchant id."""
        token = self.token(owner)
        response = self.apply(token, n)
        assert response.status == 201, response.body
        merchant_id = response.json["merchant_id"]
        approved = self.api("POST", f"/api/admin/v1/merchants/{merchant_id}/approve", {},
                            token=operator or self.operator_token("operator"))
        assert approved.status == 200, approved.body
        return merchant_id


class StaffedMerchantsTestCase(MerchantApiTestCase):
    """Two approved merchants, A and B, each with an owner, a manager, a clerk, a shop,
    an item on the shelf and an open invitation (built straight in the database)."""

    def setUp(self):
        super().setUp()
        from alliance.accounts.models import User
        from alliance.db import db
        from alliance.merchants.invites import create_invite
        from tests.factories import add_staff, make_item, make_merchant, make_shop

        self.tokens, self.ids = {}, {}
        for side in ("a", "b"):
            people = {role: self.login(f"{side}-{role}") for role in ("owner", "manager", "clerk")}
            for role, login in people.items():
                self.tokens[f"{side}-{role}"] = login["access_token"]
            with db.connection_context():
                owner = User.get_by_id(people["owner"]["user"]["id"])
                merchant = make_merchant(owner=owner, name=f"商户{side.upper()}")
                for role in ("manager", "clerk"):
                    user = User.get_by_id(people[role]["user"]["id"])
                    add_staff(merchant, f"merchant_{role}", user)
                self.ids[side] = {
                    "merchant": merchant.id, "shop": make_shop(merchant).id,
                    "item": make_item(merchant, stock=5).id,
                    "invite": create_invite(merchant.id, owner.id, "merchant_clerk").id,
                    "clerk_user": people["clerk"]["user"]["id"]}
