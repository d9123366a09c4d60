"""Operators run points lotteries over HTTP: drafts written whole, what an active lottery
keeps, activation and end, prize stock added or taken under concurrency, results, and who
may do it; consumers see only the running and upcoming ones and only their own draws."""
from alliance.db import connection
from alliance.lottery.models import Lottery
from tests.campaigns_support import at
from tests.concurrency import run_at_once
from tests.factories import make_template
from tests.lottery_support import NONE_PRIZE, LotteryTestCase, lottery_body


class LotteryManagementTest(LotteryTestCase):
    def test_an_operator_creates_a_draft_with_its_prizes_and_probabilities(self):
        template = self.platform_template(name="平台满50减10")
        lottery = self.create(daily_limit=3, prizes=[
            {"kind": "coupon", "coupon_template_id": template.id, "weight": 1, "stock": 10},
            {"kind": "points", "points": 88, "weight": 3},
            {"kind": "none", "weight": 6}])
        assert (lottery["status"], lottery["state"]) == ("draft", "draft")
        assert (lottery["points_cost"], lottery["daily_limit"], lottery["total_limit"]) == (
            10, 3, None)
        assert "+08:00" in lottery["starts_at"] and lottery["draws"] == 0
        assert [(p["kind"], p["name"], p["probability"], p["stock_left"])
                for p in lottery["prizes"]] == [("coupon", "平台满50减10", 0.1, 10),
                                                 ("points", "88 积分", 0.3, None),
                                                 ("none", "谢谢参与", 0.6, None)]
        listed = self.api("GET", "/api/admin/v1/lotteries?status=draft", token=self.operator)
        assert [item["id"] for item in listed.json["items"]] == [lottery["id"]]
        # Drafts are not the consumers' to see.
        assert self.api("GET", "/api/v1/lotteries").json["items"] == []

    def test_invalid_lotteries_are_a_400_naming_the_field(self):
        _, merchant = self.merchant_owned_by("owner-a")
        with connection():
            merchant_template = make_template(merchant)
        ended_template = self.platform_template()
        assert self.api("PATCH", f"/api/admin/v1/coupon-templates/{ended_template.id}",
                        {"status": "ended"}, token=self.operator).status == 200
        cases = [
            ({"points_cost": 0}, "points_cost"),
            ({"title": ""}, "title"),
            ({"ends_at": at(-5)}, "ends_at"),
            ({"starts_at": at(30), "ends_at": at(10)}, "ends_at"),
            ({"daily_limit": 0}, "daily_limit"),
            ({"prizes": [NONE_PRIZE]}, "prizes"),
            ({"prizes": [{"kind": "points", "points": 5, "weight": 1},
                         {"kind": "points", "points": 6, "weight": 1}]}, "prizes"),
            ({"prizes": [NONE_PRIZE, {**NONE_PRIZE, "weight": 1}]}, "prizes"),
            ({"prizes": [{"kind": "points", "points": 5, "weight": 0}, NONE_PRIZE]}, "prizes"),
            ({"prizes": [{"kind": "points", "points": 0, "weight": 1}, NONE_PRIZE]},
             "prizes[0].points"),
            ({"prizes": [{"kind": "points", "points": 5, "weight": -1}, NONE_PRIZE]},
             "prizes[0].weight"),
            ({"prizes": [{"kind": "gift", "weight": 1}, NONE_PRIZE]}, "prizes[0].kind"),
            ({"prizes": [{"kind": "points", "points": 5, "weight": 1}, {**NONE_PRIZE, "name": ""}]},
             "prizes[1].name"),
            ({"prizes": [{"kind": "points", "points": 5, "weight": 1},
                         {**NONE_PRIZE, "stock": 5}]}, "prizes[1]"),
            ({"prizes": [{"kind": "coupon", "coupon_template_id": merchant_template.id,
                          "weight": 1, "stock": 1}, NONE_PRIZE]}, "prizes[0].coupon_template_id"),
            ({"prizes": [{"kind": "coupon", "coupon_template_id": ended_template.id,
                          "weight": 1, "stock": 1}, NONE_PRIZE]}, "prizes[0].coupon_template_id"),
            ({"prizes": [{"kind": "coupon", "coupon_template_id": ended_template.id + 1000,
                          "weight": 1, "stock": 1}, NONE_PRIZE]}, "prizes[0].coupon_template_id"),
        ]
        for overrides, field in cases:
            with self.subTest(field=field, overrides=overrides):
                response = self.api("POST", "/api/admin/v1/lotteries",
                                    lottery_body(**overrides), token=self.operator)
                self.assert_error(response, 400, "VALIDATION_FAILED")
                assert response.json["error"]["details"]["field"] == field, response.body
        self.assert_error(self.api("GET", "/api/admin/v1/lotteries?status=live",
                                   token=self.operator), 400, "VALIDATION_FAILED")
        typo = self.api("POST", "/api/admin/v1/lotteries", lottery_body(cost=5),
                        token=self.operator)
        self.assert_error(typo, 400, "VALIDATION_FAILED")
        assert typo.json["error"]["details"]["fields"] == ["cost"]
        with connection():
            assert Lottery.select().count() == 0

    def test_a_draft_changes_in_whole_an_active_one_only_its_texts_and_end(self):
        lottery = self.create()
        path = f"/api/admin/v1/lotteries/{lottery['id']}"
        changed = self.api("PATCH", path, {"points_cost": 20, "prizes": [
            {"kind": "points", "points": 5, "weight": 1, "stock": 2},
            {"kind": "points", "points": 9, "weight": 1}, NONE_PRIZE]}, token=self.operator)
        assert changed.status == 200, changed.body
        assert changed.json["points_cost"] == 20 and len(changed.json["prizes"]) == 3
        self.assert_error(self.api("PATCH", path, {}, token=self.operator), 400,
                          "VALIDATION_FAILED")
        assert self.api("POST", path + "/activate", token=self.operator).status == 200
        refused = self.api("PATCH", path, {"prizes": lottery_body()["prizes"]},
                           token=self.operator)
        self.assert_error(refused, 409, "LOTTERY_STATE_CONFLICT")
        assert refused.json["error"]["details"]["field"] == "prizes"
        self.assert_error(self.api("PATCH", path, {"points_cost": 1}, token=self.operator),
                          409, "LOTTERY_STATE_CONFLICT")
        texts = self.api("PATCH", path, {"title": "双十二大转盘", "ends_at": at(120)},
                         token=self.operator)
        assert texts.status == 200 and texts.json["title"] == "双十二大转盘"
        self.assert_error(self.api("POST", path + "/activate", token=self.operator), 409,
                          "LOTTERY_STATE_CONFLICT")
        assert self.api("POST", path + "/end", token=self.operator).json["status"] == "ended"
        self.assert_error(self.api("POST", path + "/end", token=self.operator), 409,
                          "LOTTERY_STATE_CONFLICT")
        self.assert_error(self.api("PATCH", path, {"title": "x"}, token=self.operator), 409,
                          "LOTTERY_STATE_CONFLICT")
        self.assert_error(self.api("GET", "/api/admin/v1/lotteries/999999",
                                   token=self.operator), 404, "LOTTERY_NOT_FOUND")

    def test_a_lottery_whose_coupon_ended_or_end_passed_is_not_activated(self):
        template = self.platform_template()
        lottery = self.create(prizes=[
            {"kind": "coupon", "coupon_template_id": template.id, "weight": 1, "stock": 1},
            NONE_PRIZE])
        end = self.api("PATCH", f"/api/admin/v1/coupon-templates/{template.id}",
                       {"status": "ended"}, token=self.operator)
        assert end.status == 200, end.body
        refused = self.api("POST", f"/api/admin/v1/lotteries/{lottery['id']}/activate",
                           token=self.operator)
        self.assert_error(refused, 409, "LOTTERY_STATE_CONFLICT")
        assert refused.json["error"]["details"]["coupon_template_id"] == template.id
        late = self.create()
        with connection():
            Lottery.update(starts_at=Lottery.created_at, ends_at=Lottery.created_at).where(
                Lottery.id == late["id"]).execute()
        self.assert_error(self.api("POST", f"/api/admin/v1/lotteries/{late['id']}/activate",
                                   token=self.operator), 409, "LOTTERY_STATE_CONFLICT")

    def test_prize_stock_is_added_or_taken_never_below_zero_and_never_unlimited(self):
        lottery = self.live(prizes=[{"kind": "points", "points": 5, "weight": 1, "stock": 3},
                                    {"kind": "points", "points": 9, "weight": 1}, NONE_PRIZE])
        limited, unlimited, _ = lottery["prizes"]
        path = f"/api/admin/v1/lotteries/{lottery['id']}/prizes/{{}}/stock"
        added = self.api("POST", path.format(limited["id"]), {"delta": 7}, token=self.operator)
        assert added.status == 200
        assert (added.json["prizes"][0]["stock_total"], added.json["prizes"][0]["stock_left"]) \
            == (10, 10)
        outcomes = self.run_blocking(lambda: run_at_once(3, lambda i: self.post_from_thread(
            path.format(limited["id"]), {"delta": -4}, self.operator)))
        assert sorted(s for s, _ in outcomes) == [200, 200, 409], outcomes
        assert [a["error"]["code"] for s, a in outcomes if s == 409] == [
            "LOTTERY_PRIZE_STOCK_SHORT"]
        assert self.prize(limited["id"]).stock_left == 2
        for body, status, code in (({"delta": 0}, 400, "VALIDATION_FAILED"),
                                   ({"delta": "1"}, 400, "VALIDATION_FAILED"),
                                   ({"delta": 1, "x": 1}, 400, "VALIDATION_FAILED")):
            self.assert_error(self.api("POST", path.format(limited["id"]), body,
                                       token=self.operator), status, code)
        self.assert_error(self.api("POST", path.format(unlimited["id"]), {"delta": 1},
                                   token=self.operator), 409, "LOTTERY_STATE_CONFLICT")
        self.assert_error(self.api("POST", path.format(999999), {"delta": 1},
                                   token=self.operator), 404, "LOTTERY_PRIZE_NOT_FOUND")

    def test_results_count_draws_people_and_points_per_lottery(self):
        lottery = self.live()
        alice, _ = self.consumer("alice")
        bob, _ = self.consumer("bob")
        for token in (alice, alice, bob):
            assert self.draw(lottery["id"], token).status == 201
        listed = self.api("GET", "/api/admin/v1/lotteries", token=self.operator).json["items"]
        assert [(i["draws"], i["points_taken"]) for i in listed] == [(3, 30)]
        detail = self.api("GET", f"/api/admin/v1/lotteries/{lottery['id']}",
                          token=self.operator).json
        assert (detail["entrants"], detail["points_awarded"]) == (2, 300)
        page = self.api("GET", f"/api/admin/v1/lotteries/{lottery['id']}/draws?limit=2",
                        token=self.operator).json
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = self.api("GET", f"/api/admin/v1/lotteries/{lottery['id']}/draws?limit=2"
                               f"&cursor={page['next_cursor']}", token=self.operator).json
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None


class LotteryAccessTest(LotteryTestCase):
    ADMIN_ROUTES = [("GET", "/api/admin/v1/lotteries", None),
                    ("POST", "/api/admin/v1/lotteries", lottery_body()),
                    ("GET", "/api/admin/v1/lotteries/{id}", None),
                    ("PATCH", "/api/admin/v1/lotteries/{id}", {"title": "x"}),
                    ("POST", "/api/admin/v1/lotteries/{id}/activate", {}),
                    ("POST", "/api/admin/v1/lotteries/{id}/end", {}),
                    ("POST", "/api/admin/v1/lotteries/{id}/prizes/{prize}/stock", {"delta": 1}),
                    ("GET", "/api/admin/v1/lotteries/{id}/draws", None)]

    def test_consumers_and_customer_service_cannot_run_lotteries(self):
        lottery = self.create(prizes=[{"kind": "points", "points": 5, "weight": 1, "stock": 1},
                                      NONE_PRIZE])
        ids = {"id": lottery["id"], "prize": lottery["prizes"][0]["id"]}
        consumer, service = self.token("alice"), self.operator_token("customer_service")
        for method, path, body in self.ADMIN_ROUTES:
            with self.subTest(method=method, path=path):
                url = path.format(**ids)
                self.assert_error(self.api(method, url, body), 401, "UNAUTHENTICATED")
                self.assert_error(self.api(method, url, body, token=consumer), 401,
                                  "TOKEN_INVALID")
                self.assert_error(self.api(method, url, body, token=service), 403, "FORBIDDEN")
        with connection():
            assert Lottery.get_by_id(lottery["id"]).status == "draft"
        self.assert_error(self.api("POST", f"/api/v1/lotteries/{lottery['id']}/draws", {},
                                   token=self.operator, headers={"Idempotency-Key": "k"}),
                          401, "TOKEN_INVALID")

    def test_a_consumer_sees_only_their_own_draws(self):
        lottery, other = self.live(), self.live(title="另一个转盘")
        alice, _ = self.consumer("alice")
        bob, _ = self.consumer("bob")
        mine = {self.draw(lottery["id"], alice).json["id"],
                self.draw(other["id"], alice).json["id"]}
        self.draw(lottery["id"], bob)
        listed = self.api("GET", "/api/v1/me/lottery-draws", token=alice).json
        assert {d["id"] for d in listed["items"]} == mine
        assert {d["lottery_title"] for d in listed["items"]} == {"幸运大转盘", "另一个转盘"}
        only = self.api("GET", f"/api/v1/me/lottery-draws?lottery_id={other['id']}",
                        token=alice).json["items"]
        assert [d["lottery_id"] for d in only] == [other["id"]]
        self.assert_error(self.api("GET", "/api/v1/me/lottery-draws"), 401, "UNAUTHENTICATED")
        for query in ("lottery_id=x", "limit=0", "cursor=@@"):
            self.assert_error(self.api("GET", f"/api/v1/me/lottery-draws?{query}", token=alice),
                              400, "VALIDATION_FAILED")

    def test_visitors_see_running_and_upcoming_lotteries_without_their_own_counts(self):
        running, upcoming = self.live(), self.live(starts_at=at(30), ends_at=at(90))
        ended = self.live()
        self.api("POST", f"/api/admin/v1/lotteries/{ended['id']}/end", token=self.operator)
        listed = self.api("GET", "/api/v1/lotteries").json["items"]
        assert [(i["id"], i["state"], i["me"]) for i in listed] == [
            (upcoming["id"], "upcoming", None), (running["id"], "running", None)]
        alice, _ = self.consumer("alice")
        mine = self.api("GET", "/api/v1/lotteries", token=alice).json["items"]
        assert mine[1]["me"] == {"draws_today": 0, "draws_total": 0, "draws_left_today": None,
                                 "can_draw": True}
        assert mine[0]["me"]["can_draw"] is False
        shown = self.api("GET", f"/api/v1/lotteries/{ended['id']}").json
        assert shown["state"] == "ended" and shown["prizes"][0]["remaining"] is None


class LotteryHostileInputTest(LotteryTestCase):
    def test_hostile_values_answer_400_in_the_envelope_and_change_nothing(self):
        edge_of_time = "9999-12-31T23:00:00+00:00"  # year 10000 in Asia/Shanghai
        cases = [{"ends_at": edge_of_time}, {"starts_at": "明天"}, {"starts_at": 5},
                 {"title": "转盘\x00"}, {"title": "\u202e盘转"}, {"title": ["x"]},
                 {"points_cost": 1.5}, {"points_cost": True}, {"points_cost": 10 ** 30},
                 {"daily_limit": "3"}, {"prizes": {"kind": "none"}}, {"prizes": "none"},
                 {"prizes": [1, 2]}, {"prizes": [{"kind": ["points"], "weight": 1}, NONE_PRIZE]},
                 {"prizes": [{"kind": "points", "points": 5, "weight": True}, NONE_PRIZE]},
                 {"prizes": [{"kind": "points", "points": 5, "weight": 1, "stock": -1},
                             NONE_PRIZE]},
                 {"prizes": [{"kind": "points", "points": 5, "weight": 1, "odds": 1},
                             NONE_PRIZE]},
                 {"prizes": [{"kind": "coupon", "coupon_template_id": "1", "weight": 1,
                              "stock": 1}, NONE_PRIZE]},
                 {"prizes": [{"kind": "coupon", "coupon_template_id": 2 ** 40, "weight": 1,
                              "stock": 1}, NONE_PRIZE]},
                 {"prizes": [{"kind": "points", "points": 5, "weight": 1}] * 12 + [NONE_PRIZE]}]
        for overrides in cases:
            with self.subTest(overrides=overrides):
                response = self.api("POST", "/api/admin/v1/lotteries", lottery_body(**overrides),
                                    token=self.operator)
                self.assert_error(response, 400, "VALIDATION_FAILED")
        for body in (b"[]", b'"x"', b"{", b"null"):
            with self.subTest(body=body):
                response = self.api("POST", "/api/admin/v1/lotteries", body=body,
                                    token=self.operator)
                assert response.status == 400 and response.error_code in (
                    "VALIDATION_FAILED", "MALFORMED_JSON"), response.body
        with connection():
            assert Lottery.select().count() == 0
