from alliance.db import db
from alliance.points import services as points
from tests.support import ApiTestCase


class MyPointsTest(ApiTestCase):
    def test_points_answer_balance_and_ledger_pages(self):
        login = self.login("alice")
        with db.connection_context():
            for i in range(3):
                points.earn(login["user"]["id"], 10, merchant_id=None, idempotency_key=f"e{i}")
        first = self.api("GET", "/api/v1/me/points?limit=2", token=login["access_token"])
        assert first.status == 200
        assert first.json["balance"] == 30 and len(first.json["items"]) == 2
        rest = self.api("GET", f"/api/v1/me/points?limit=2&cursor={first.json['next_cursor']}",
                        token=login["access_token"])
        assert len(rest.json["items"]) == 1 and rest.json["next_cursor"] is None

    def test_points_with_bad_cursor_is_a_400(self):
        from alliance.paging import encode_cursor

        token = self.token()
        self.assert_error(self.api("GET", "/api/v1/me/points?cursor=%%%", token=token),
                          400, "VALIDATION_FAILED")
        forged = encode_cursor("not-a-number")
        self.assert_error(self.api("GET", f"/api/v1/me/points?cursor={forged}", token=token),
                          400, "VALIDATION_FAILED")

    def test_member_code_is_short_lived_and_signed(self):
        login = self.login("alice")
        response = self.api("GET", "/api/v1/me/member-code", token=login["access_token"])
        assert response.status == 200
        payload = response.json["payload"]
        assert payload.startswith(f"MC1.{login['user']['id']}.")
        assert self.app.settings["ctx"].member_codes.verify(payload)[0] == login["user"]["id"]
        assert "+08:00" in response.json["expires_at"]
