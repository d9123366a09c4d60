"""Lists read whole (the industries, a merchant's staff and shops, the jobs...) take `cursor`
and `limit` like every list: pages of `limit`, a `next_cursor` until the end."""
from alliance.merchants.industries import INDUSTRIES
from tests.api.merchant_support import StaffedMerchantsTestCase


class ShortListPagingTest(StaffedMerchantsTestCase):
    def pages(self, path: str, limit: int, token: str | None = None) -> list[list]:
        pages, cursor = [], None
        while True:
            query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            answer = self.api("GET", f"{path}?{query}", token=token)
            assert answer.status == 200, answer.body
            pages.append(answer.json["items"])
            cursor = answer.json["next_cursor"]
            if cursor is None:
                return pages

    def test_industries_come_in_pages_and_whole_without_a_limit(self):
        whole = self.api("GET", "/api/v1/industries").json
        assert len(whole["items"]) == len(INDUSTRIES) and whole["next_cursor"] is None
        pages = self.pages("/api/v1/industries", 4)
        assert [len(page) for page in pages] == [4, 4, len(INDUSTRIES) - 8]
        assert [item for page in pages for item in page] == whole["items"]

    def test_staff_and_jobs_honour_the_limit(self):
        owner = self.tokens["a-owner"]
        staff = self.api("GET", "/api/v1/merchant/staff", token=owner).json["items"]
        assert len(staff) >= 2
        pages = self.pages("/api/v1/merchant/staff", 1, owner)
        assert [len(page) for page in pages] == [1] * len(staff)
        assert [item for page in pages for item in page] == staff
        admin = self.operator_token("administrator")
        jobs = self.api("GET", "/api/admin/v1/jobs?limit=2", token=admin).json
        assert len(jobs["items"]) == 2 and jobs["next_cursor"] and "configuration_errors" in jobs

    def test_a_bad_cursor_or_limit_is_a_400(self):
        for query in ("cursor=!!bad", "cursor=WyJhIl0", "cursor=Wy0xXQ", "limit=0", "limit=101",
                      "limit=1_0", "limit=%D9%A1"):
            self.assert_error(self.api("GET", f"/api/v1/industries?{query}"), 400,
                              "VALIDATION_FAILED")
