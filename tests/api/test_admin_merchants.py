"""The operators' merchant statistics and shop corrections."""
from alliance.accounts.models import OperatorAuditLog
from alliance.db import db
from alliance.merchants.aggregates import record_sale
from tests.api.merchant_support import MerchantApiTestCase
from tests.factories import make_merchant, make_shop


class StatsTest(MerchantApiTestCase):
    def test_counts_by_industry_and_status_and_sales_ranking(self):
        with db.connection_context():
            noodles = make_merchant(industry="catering", name="面馆")
            cafe = make_merchant(industry="catering", name="咖啡")
            cinema = make_merchant(industry="entertainment", name="影城")
            make_merchant(industry="catering", status="pending")
            banned = make_merchant(industry="retail", status="suspended")
            record_sale(cafe.id, 90_000, 3)
            record_sale(cinema.id, 50_000, 10)
            record_sale(banned.id, 999_999, 1)
        response = self.api("GET", "/api/admin/v1/merchant-stats?ranking_limit=2",
                            token=self.operator_token("operator"))
        assert response.status == 200
        stats = response.json
        assert stats["total"] == 5
        assert {s["status"]: s["count"] for s in stats["by_status"]} == {
            "pending": 1, "approved": 3, "rejected": 0, "suspended": 1}
        catering = stats["by_industry"][0]
        assert catering["industry"] == "catering" and catering["count"] == 3
        assert catering["by_status"]["pending"] == 1
        assert [(r["rank"], r["merchant_id"], r["sales_fen"]) for r in stats["sales_ranking"]] == [
            (1, cafe.id, 90_000), (2, cinema.id, 50_000)]
        assert noodles.id not in [r["merchant_id"] for r in stats["sales_ranking"]]

    def test_stats_need_the_merchant_permission(self):
        self.assert_error(self.api("GET", "/api/admin/v1/merchant-stats",
                                   token=self.operator_token("customer_service")), 403, "FORBIDDEN")


class OperatorShopTest(MerchantApiTestCase):
    def setUp(self):
        super().setUp()
        self.owner, self.merchant = self.merchant_owned_by("boss")
        with db.connection_context():
            make_shop(self.merchant)
        shops = self.api("GET", "/api/v1/merchant/shops", token=self.owner).json["items"]
        self.shop_id = shops[0]["id"]
        self.operator = self.operator_token("operator")

    def test_operator_corrects_a_shop_and_it_is_audited(self):
        logo = self.upload_id(self.owner, "logo")
        self.api("PATCH", f"/api/v1/merchant/shops/{self.shop_id}", {"logo_upload": logo},
                 token=self.owner)
        response = self.api("PATCH", f"/api/admin/v1/shops/{self.shop_id}",
                            {"name": "更正后的店名", "logo_upload": None, "reason": "店名违规"},
                            token=self.operator)
        assert response.status == 200
        assert response.json["name"] == "更正后的店名" and response.json["logo_url"] is None
        with db.connection_context():
            entry = OperatorAuditLog.get(OperatorAuditLog.action == "shop.edit")
        assert entry.target_id == str(self.shop_id) and entry.reason == "店名违规"
        seen = self.api("GET", f"/api/admin/v1/shops/{self.shop_id}", token=self.operator)
        assert seen.json["name"] == "更正后的店名"

    def test_operator_cannot_attach_someone_elses_image(self):
        logo = self.upload_id(self.owner, "logo")
        response = self.api("PATCH", f"/api/admin/v1/shops/{self.shop_id}",
                            {"logo_upload": logo}, token=self.operator)
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_unknown_shop_and_wrong_role_are_refused(self):
        self.assert_error(self.api("PATCH", "/api/admin/v1/shops/999999", {"name": "x"},
                                   token=self.operator), 404, "SHOP_NOT_FOUND")
        self.assert_error(self.api("PATCH", f"/api/admin/v1/shops/{self.shop_id}", {"name": "x"},
                                   token=self.operator_token("customer_service")), 403, "FORBIDDEN")
