"""Lottery tests: an operator's lotteries created and put live through the console API,
platform coupon templates for coupon prizes, consumers with points, draws as the
mini-program sends them."""
from __future__ import annotations

import itertools

from alliance.db import connection
from alliance.lottery.models import LotteryDraw, LotteryEntrant, LotteryPrize
from alliance.points import services as points
from alliance.points.models import PointsEntry
from tests.campaigns_support import at
from tests.factories import make_template
from tests.support import ApiTestCase

_keys = itertools.count()
NONE_PRIZE = {"kind": "none", "weight": 0}


def lottery_body(**overrides) -> dict:
    """Running from a minute ago for an hour, 10 points a draw, 100 points (weight 1) or
    谢谢参与 (weight 0): every draw gives the points while they last."""
    return {"title": "幸运大转盘", "description": "每次消耗 10 积分", "points_cost": 10,
            "starts_at": at(-1), "ends_at": at(60),
            "prizes": [{"kind": "points", "points": 100, "weight": 1, "stock": None},
                       NONE_PRIZE], **overrides}


class LotteryTestCase(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.operator = self.operator_token("operator")

    def platform_template(self, **overrides):
        with connection():
            return make_template(None, **overrides)

    def create(self, **overrides) -> dict:
        response = self.api("POST", "/api/admin/v1/lotteries", lottery_body(**overrides),
                            token=self.operator)
        assert response.status == 201, response.body
        return response.json

    def live(self, **overrides) -> dict:
        """A lottery created and activated."""
        lottery = self.create(**overrides)
        response = self.api("POST", f"/api/admin/v1/lotteries/{lottery['id']}/activate",
                            token=self.operator)
        assert response.status == 200, response.body
        return response.json

    def consumer(self, name: str, balance: int = 1000) -> tuple[str, int]:
        """The stand-in ``name`` logged in with ``balance`` points: (token, user id)."""
        login = self.login(name)
        user_id = login["user"]["id"]
        if balance:
            with connection():
                points.earn(user_id, balance, merchant_id=None, idempotency_key=f"gift:{name}")
        return login["access_token"], user_id

    def draw(self, lottery_id: int, token: str, key: str | None = None, body=None):
        headers = {"Idempotency-Key": key or f"draw-{next(_keys)}"}
        return self.api("POST", f"/api/v1/lotteries/{lottery_id}/draws",
                        body if body is not None else {}, token=token, headers=headers)

    def draw_from_thread(self, lottery_id: int, token: str, key: str) -> tuple[int, dict]:
        return self.post_from_thread(f"/api/v1/lotteries/{lottery_id}/draws", {}, token,
                                     headers={"Idempotency-Key": key})

    def balance(self, user_id: int) -> int:
        with connection():
            return points.balance_of(user_id)

    def draws(self, lottery_id: int) -> list[LotteryDraw]:
        with connection():
            return list(LotteryDraw.select().where(LotteryDraw.lottery_id == lottery_id)
                        .order_by(LotteryDraw.id))

    def prize(self, prize_id: int) -> LotteryPrize:
        with connection():
            return LotteryPrize.get_by_id(prize_id)

    def entries(self, user_id: int, kind: str | None = None) -> list[PointsEntry]:
        with connection():
            query = PointsEntry.select().where(PointsEntry.user_id == user_id,
                                               PointsEntry.ref_type == "lottery_draw")
            if kind is not None:
                query = query.where(PointsEntry.kind == kind)
            return list(query.order_by(PointsEntry.id))

    def entrant(self, lottery_id: int, user_id: int) -> LotteryEntrant:
        with connection():
            return LotteryEntrant.get(LotteryEntrant.lottery_id == lottery_id,
                                      LotteryEntrant.user_id == user_id)
