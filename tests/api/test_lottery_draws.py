"""Consumers draw points lotteries over HTTP: points spent and prizes given in one
transaction, the ledger reading 积分抽奖, idempotent draws, limits that hold under a double
tap, prize stock never oversold in a rush, and the refusals in the contract's envelope."""
import datetime as dt
import json
from unittest import mock

from alliance.coupons.models import Coupon, CouponTemplate
from alliance.analytics.rollups import local_day
from alliance.db import connection, utcnow
from alliance.infra.models import IdempotencyRecord
from alliance.lottery.models import Lottery, LotteryEntrant
from alliance.notifications.models import OutboxMessage
from tests.campaigns_support import at
from tests.concurrency import run_at_once
from tests.lottery_support import NONE_PRIZE, LotteryTestCase


class DrawTest(LotteryTestCase):
    def test_a_draw_spends_the_cost_and_credits_a_points_prize_read_as_lottery_in_history(self):
        lottery = self.live()
        token, user_id = self.consumer("alice", 1000)
        response = self.draw(lottery["id"], token)
        assert response.status == 201, response.body
        answer = response.json
        assert answer["won"] is True and answer["prize_kind"] == "points"
        assert (answer["points_cost"], answer["points_awarded"]) == (10, 100)
        assert answer["points_balance"] == 1090 == self.balance(user_id)
        assert answer["lottery_title"] == "幸运大转盘" and "+08:00" in answer["created_at"]
        history = self.api("GET", "/api/v1/me/points", token=token).json["items"]
        lottery_rows = [e for e in history if e["ref_type"] == "lottery_draw"]
        assert [(e["kind"], e["amount"], e["memo"], e["ref_id"]) for e in lottery_rows] == [
            ("earn", 100, "积分抽奖中奖：幸运大转盘", str(answer["id"])),
            ("spend", -10, "积分抽奖：幸运大转盘", str(answer["id"]))]

    def test_a_coupon_prize_is_issued_by_the_coupon_code_and_listed_as_mine(self):
        template = self.platform_template(name="平台满100减20", total_stock=10)
        lottery = self.live(prizes=[
            {"kind": "coupon", "coupon_template_id": template.id, "weight": 1, "stock": 3},
            NONE_PRIZE])
        token, user_id = self.consumer("alice", 100)
        answer = self.draw(lottery["id"], token).json
        assert answer["prize_kind"] == "coupon" and answer["prize_name"] == "平台满100减20"
        coupon = answer["coupon"]
        assert coupon["source"]["channel"] == "lottery" and coupon["template"]["id"] == template.id
        mine = self.api("GET", "/api/v1/me/coupons", token=token).json["items"]
        assert [c["code"] for c in mine] == [coupon["code"]]
        assert self.balance(user_id) == 90
        with connection():
            assert CouponTemplate.get_by_id(template.id).issued == 1
        assert self.prize(lottery["prizes"][0]["id"]).stock_left == 2

    def test_a_prize_out_of_stock_gives_thanks_for_taking_part_and_is_never_oversold(self):
        lottery = self.live(prizes=[{"kind": "points", "points": 50, "weight": 1, "stock": 1},
                                    {**NONE_PRIZE, "name": "谢谢参与"}])
        token, _ = self.consumer("alice")
        first, second = self.draw(lottery["id"], token).json, self.draw(lottery["id"], token).json
        assert (first["prize_kind"], second["prize_kind"]) == ("points", "none")
        assert second["won"] is False and second["prize_name"] == "谢谢参与"
        assert self.prize(lottery["prizes"][0]["id"]).stock_left == 0
        with connection():  # the winner is told once, the draw that fell back not at all
            told = [json.loads(m.payload) for m in OutboxMessage.select()
                    .where(OutboxMessage.event == "lottery.won")]
        assert [(m["draw_id"], m["prize_name"], m["lottery_id"]) for m in told] == [
            (first["id"], first["prize_name"], lottery["id"])]
        detail = self.api("GET", f"/api/admin/v1/lotteries/{lottery['id']}",
                          token=self.operator).json
        by_kind = {p["kind"]: p for p in detail["prizes"]}
        assert (by_kind["points"]["picked"], by_kind["points"]["awarded"]) == (2, 1)
        assert by_kind["none"]["awarded"] == 1
        fell_back = self.api("GET", f"/api/admin/v1/lotteries/{lottery['id']}/draws",
                             token=self.operator).json["items"]
        assert [d["fell_back"] for d in fell_back] == [True, False]

    def test_a_coupon_the_winner_cannot_hold_more_of_gives_thanks_for_taking_part(self):
        template = self.platform_template(total_stock=10, per_user_limit=1)
        lottery = self.live(prizes=[
            {"kind": "coupon", "coupon_template_id": template.id, "weight": 1, "stock": 5},
            NONE_PRIZE])
        token, _ = self.consumer("alice")
        shown = self.api("GET", f"/api/v1/lotteries/{lottery['id']}", token=token).json
        assert [p["probability"] for p in shown["prizes"]] == [1.0, 0.0]
        assert self.draw(lottery["id"], token).json["prize_kind"] == "coupon"
        # The viewer holds the most of it now: its chance is theirs no more, as shown.
        shown = self.api("GET", f"/api/v1/lotteries/{lottery['id']}", token=token).json
        assert [p["probability"] for p in shown["prizes"]] == [0.0, 1.0]
        assert self.draw(lottery["id"], token).json["prize_kind"] == "none"
        assert self.prize(lottery["prizes"][0]["id"]).stock_left == 4  # given back
        with connection():
            assert CouponTemplate.get_by_id(template.id).issued == 1
            assert Coupon.select().count() == 1

    def test_the_pick_follows_the_weights_from_the_secure_random_source(self):
        lottery = self.live(prizes=[{"kind": "points", "points": 5, "weight": 3},
                                    {"kind": "points", "points": 7, "weight": 1},
                                    {**NONE_PRIZE, "weight": 6}])
        token, _ = self.consumer("alice")
        shown = self.api("GET", f"/api/v1/lotteries/{lottery['id']}").json
        assert [p["probability"] for p in shown["prizes"]] == [0.3, 0.1, 0.6]
        given = []
        for ticket in (0, 2, 3, 4, 9):
            with mock.patch("alliance.lottery.draws.secrets.randbelow",
                            return_value=ticket) as randbelow:
                given.append(self.draw(lottery["id"], token).json["prize_name"])
            randbelow.assert_called_once_with(10)
        assert given == ["5 积分", "5 积分", "7 积分", "谢谢参与", "谢谢参与"]

    def test_without_enough_points_nothing_is_spent_counted_or_given(self):
        lottery = self.live(daily_limit=1)
        token, user_id = self.consumer("alice", 9)
        response = self.draw(lottery["id"], token)
        self.assert_error(response, 409, "POINTS_INSUFFICIENT")
        assert response.json["error"]["message"] == "积分不足"
        assert self.balance(user_id) == 9 and self.draws(lottery["id"]) == []
        assert self.entrant(lottery["id"], user_id).draws == 0
        assert self.prize(lottery["prizes"][0]["id"]).stock_left is None

    def test_drafts_upcoming_and_ended_lotteries_refuse_draws_with_stable_codes(self):
        token, user_id = self.consumer("alice")
        draft = self.create()
        self.assert_error(self.draw(draft["id"], token), 404, "LOTTERY_NOT_FOUND")
        self.assert_error(self.api("GET", f"/api/v1/lotteries/{draft['id']}"), 404,
                          "LOTTERY_NOT_FOUND")
        self.assert_error(self.draw(999999, token), 404, "LOTTERY_NOT_FOUND")
        upcoming = self.live(starts_at=at(30))
        response = self.draw(upcoming["id"], token)
        self.assert_error(response, 409, "LOTTERY_NOT_STARTED")
        assert response.json["error"]["message"] == "抽奖活动尚未开始"
        assert response.json["error"]["details"]["starts_at"] == upcoming["starts_at"]
        ended = self.live()
        assert self.api("POST", f"/api/admin/v1/lotteries/{ended['id']}/end",
                        token=self.operator).status == 200
        self.assert_error(self.draw(ended["id"], token), 409, "LOTTERY_ENDED")
        past = self.live()
        with connection():
            (Lottery.update(starts_at=utcnow() - dt.timedelta(hours=3),
                            ends_at=utcnow() - dt.timedelta(hours=1))
             .where(Lottery.id == past["id"]).execute())
        self.assert_error(self.draw(past["id"], token), 409, "LOTTERY_ENDED")
        assert self.balance(user_id) == 1000

    def test_the_daily_and_total_limits_hold_and_a_new_day_counts_afresh(self):
        lottery = self.live(daily_limit=2, total_limit=3)
        token, user_id = self.consumer("alice")
        assert [self.draw(lottery["id"], token).status for _ in range(2)] == [201, 201]
        refused = self.draw(lottery["id"], token)
        self.assert_error(refused, 409, "LOTTERY_DAILY_LIMIT_REACHED")
        assert refused.json["error"]["details"]["daily_limit"] == 2
        me = self.api("GET", f"/api/v1/lotteries/{lottery['id']}", token=token).json["me"]
        assert me == {"draws_today": 2, "draws_total": 2, "draws_left_today": 0,
                      "can_draw": False}
        with connection():  # as if those draws were made yesterday
            (LotteryEntrant.update(day=local_day(utcnow()) - dt.timedelta(days=1))
             .where(LotteryEntrant.user_id == user_id).execute())
        me = self.api("GET", f"/api/v1/lotteries/{lottery['id']}", token=token).json["me"]
        assert (me["draws_today"], me["draws_left_today"], me["can_draw"]) == (0, 1, True)
        assert self.draw(lottery["id"], token).status == 201
        self.assert_error(self.draw(lottery["id"], token), 409, "LOTTERY_TOTAL_LIMIT_REACHED")
        assert self.entrant(lottery["id"], user_id).draws == 3
        assert len(self.entries(user_id, "spend")) == 3 and self.balance(user_id) == 1270


class IdempotencyTest(LotteryTestCase):
    def test_the_same_key_answers_the_first_draw_and_spends_once_even_after_a_day(self):
        lottery = self.live()
        token, user_id = self.consumer("alice")
        first = self.draw(lottery["id"], token, key="tap-1")
        again = self.draw(lottery["id"], token, key="tap-1")
        assert first.status == again.status == 201
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json == first.json
        with connection():  # the HTTP record is purged after 24 h: the draw still knows its key
            IdempotencyRecord.delete().execute()
        later = self.draw(lottery["id"], token, key="tap-1")
        assert later.status == 201 and later.json["id"] == first.json["id"]
        assert len(self.draws(lottery["id"])) == 1
        assert len(self.entries(user_id, "spend")) == 1 and self.balance(user_id) == 1090

    def test_a_key_is_required_and_one_key_cannot_draw_another_lottery(self):
        lottery, other = self.live(), self.live()
        token, _ = self.consumer("alice")
        missing = self.api("POST", f"/api/v1/lotteries/{lottery['id']}/draws", {}, token=token)
        self.assert_error(missing, 400, "VALIDATION_FAILED")
        assert missing.json["error"]["details"]["header"] == "Idempotency-Key"
        self.assert_error(self.draw(lottery["id"], token, key="k" * 129), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.draw(lottery["id"], token, body={"prize_id": 1}), 400,
                          "VALIDATION_FAILED")
        assert self.draw(lottery["id"], token, key="tap-1").status == 201
        self.assert_error(self.draw(other["id"], token, key="tap-1"), 422,
                          "IDEMPOTENCY_KEY_REUSED")
        with connection():
            IdempotencyRecord.delete().execute()
        self.assert_error(self.draw(other["id"], token, key="tap-1"), 422,
                          "IDEMPOTENCY_KEY_REUSED")
        assert self.draws(other["id"]) == []

    def test_two_users_may_use_the_same_key(self):
        lottery = self.live()
        alice, _ = self.consumer("alice")
        bob, _ = self.consumer("bob")
        a, b = self.draw(lottery["id"], alice, key="k1"), self.draw(lottery["id"], bob, key="k1")
        assert a.status == b.status == 201 and a.json["id"] != b.json["id"]


class ConcurrencyTest(LotteryTestCase):
    def test_a_double_tap_at_the_daily_limit_draws_once(self):
        lottery = self.live(daily_limit=1)
        token, user_id = self.consumer("alice")
        outcomes = self.run_blocking(lambda: run_at_once(
            4, lambda i: self.draw_from_thread(lottery["id"], token, f"tap-{i}")))
        statuses = sorted(status for status, _ in outcomes)
        assert statuses == [201, 409, 409, 409], outcomes
        assert {a["error"]["code"] for s, a in outcomes if s == 409} == {
            "LOTTERY_DAILY_LIMIT_REACHED"}
        assert len(self.draws(lottery["id"])) == 1
        assert self.entrant(lottery["id"], user_id).day_draws == 1
        assert len(self.entries(user_id, "spend")) == 1 and self.balance(user_id) == 1090

    def test_the_same_key_sent_twice_at_once_draws_once(self):
        lottery = self.live()
        token, user_id = self.consumer("alice")
        outcomes = self.run_blocking(lambda: run_at_once(
            3, lambda i: self.draw_from_thread(lottery["id"], token, "one-key")))
        drawn = [a for s, a in outcomes if s == 201]
        assert drawn and len({a["id"] for a in drawn}) == 1, outcomes
        assert {a["error"]["code"] for s, a in outcomes if s != 201} <= {
            "IDEMPOTENCY_IN_PROGRESS"}, outcomes
        assert len(self.draws(lottery["id"])) == 1
        assert len(self.entries(user_id, "spend")) == 1 and self.balance(user_id) == 1090

    def test_a_rush_gives_exactly_the_prize_stock_and_the_rest_thanks_for_taking_part(self):
        template = self.platform_template(total_stock=100)
        lottery = self.live(prizes=[
            {"kind": "coupon", "coupon_template_id": template.id, "weight": 1, "stock": 3},
            {"kind": "points", "points": 20, "weight": 1, "stock": 2},
            NONE_PRIZE])
        tokens = [self.consumer(f"rush-{i}", 100)[0] for i in range(12)]
        outcomes = self.run_blocking(lambda: run_at_once(
            12, lambda i: self.draw_from_thread(lottery["id"], tokens[i], f"rush-{i}")))
        assert sorted(s for s, _ in outcomes) == [201] * 12, outcomes
        kinds = sorted(a["prize_kind"] for _, a in outcomes)
        assert kinds == ["coupon"] * 3 + ["none"] * 7 + ["points"] * 2
        coupon_prize, points_prize, _ = lottery["prizes"]
        assert self.prize(coupon_prize["id"]).stock_left == 0
        assert self.prize(points_prize["id"]).stock_left == 0
        with connection():
            assert CouponTemplate.get_by_id(template.id).issued == 3
            assert Coupon.select().where(Coupon.channel == "lottery").count() == 3
        draws = self.draws(lottery["id"])
        assert len(draws) == 12 and sum(d.points_awarded for d in draws) == 40
        detail = self.api("GET", f"/api/admin/v1/lotteries/{lottery['id']}",
                          token=self.operator).json
        assert (detail["draws"], detail["entrants"], detail["points_taken"]) == (12, 12, 120)
        assert [p["awarded"] for p in detail["prizes"]] == [3, 2, 7]
        assert detail["coupons_awarded"] == 3 and detail["points_awarded"] == 40
