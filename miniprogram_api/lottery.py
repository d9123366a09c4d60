"""Points lotteries in the mini-program: the running and upcoming ones (open to visitors; a
logged-in consumer also sees their own draws), drawing (points spent, a prize given), and
the consumer's own draws."""
from __future__ import annotations

from alliance.checks import refuse_unknown
from alliance.errors import ValidationFailed
from alliance.lottery import draws, queries
from miniprogram_api.merchants import BrowseHandler
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent


class LotteriesHandler(BrowseHandler):
    async def get(self):
        viewer = await self.viewer_id()
        self.write_json(await self.run_sync(queries.open_lotteries, viewer,
                                            self.query("cursor"), self.limit()))


class LotteryHandler(BrowseHandler):
    async def get(self, lottery_id: str):
        viewer = await self.viewer_id()
        self.write_json(await self.run_sync(queries.public_lottery, int(lottery_id), viewer))


class DrawHandler(BaseHandler):
    @authenticated("self:write")
    @idempotent
    async def post(self, lottery_id: str):
        # A draw spends points: a retry must never draw twice, so the key is required.
        key = self.request.headers.get("Idempotency-Key")
        if not key:
            raise ValidationFailed("抽奖请求须带 Idempotency-Key",
                                   details={"header": "Idempotency-Key", "issue": "required"})
        refuse_unknown(self.json_body(), ())
        user_id, notifier = self.principal.id, self.ctx.notifier

        def run():
            return queries.draw_answer(draws.draw(int(lottery_id), user_id, key, notifier).draw)

        self.write_json(await self.run_sync(run), 201)


class MyDrawsHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        lottery_id = self.query("lottery_id")
        lottery = None if lottery_id is None else v.query_int(
            lottery_id, "lottery_id", default=0, minimum=1, maximum=2 ** 31 - 1)
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.my_draws, self.principal.id, lottery,
                                            self.query("cursor"), limit))


def routes() -> list:
    return [(r"/api/v1/lotteries", LotteriesHandler),
            (r"/api/v1/lotteries/([0-9]{1,10})", LotteryHandler),
            (r"/api/v1/lotteries/([0-9]{1,10})/draws", DrawHandler),
            (r"/api/v1/me/lottery-draws", MyDrawsHandler)]


def _schemas() -> dict:
    from server.openapi import BOOL, INT, STR, TIME, obj, ref

    nullable_int = {"type": "integer", "nullable": True}
    kind = {"type": "string", "enum": ["coupon", "points", "none"]}
    prize = obj({
        "id": INT, "kind": kind, "name": STR, "points": nullable_int,
        "probability": {"type": "number",
                        "description": "the chance a draw now gives it: weight / the sum of "
                                       "weights, where a prize that cannot be given (none "
                                       "left, or a coupon the viewer holds the most of) "
                                       "counts as 谢谢参与 (a draw gives that instead)"},
        "remaining": {**nullable_int, "description": "left to win; null: unlimited"},
        "coupon_template": {**ref("CouponTemplate"), "nullable": True}})
    me = obj({"draws_today": INT, "draws_total": INT,
              "draws_left_today": {**nullable_int, "description": "under both limits; null: "
                                                                   "no limit"},
              "can_draw": BOOL})
    return {
        "Lottery": obj({
            "id": INT, "title": STR, "description": STR,
            "points_cost": {**INT, "description": "points one draw costs"},
            "starts_at": TIME, "ends_at": TIME,
            "daily_limit": {**nullable_int, "description": "draws per Asia/Shanghai day"},
            "total_limit": nullable_int,
            "state": {"type": "string", "enum": ["upcoming", "running", "ended"]},
            "prizes": {"type": "array", "items": prize},
            "me": {**me, "nullable": True, "description": "the logged-in viewer's draws"}},
            ["id", "title", "points_cost", "prizes"]),
        "LotteryDraw": obj({
            "id": INT, "lottery_id": INT, "lottery_title": STR, "prize_id": INT,
            "prize_kind": kind, "prize_name": STR, "won": BOOL, "points_cost": INT,
            "points_awarded": INT, "coupon_id": nullable_int,
            "coupon": {**ref("Coupon"), "nullable": True}, "created_at": TIME},
            ["id", "prize_kind", "prize_name", "won"]),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, obj, op, path_param, query_param, ref

    tags = ["lottery"]
    return {
        "/api/v1/lotteries": {"get": op(
            "Points lotteries running or upcoming, newest first", tags=tags, auth=False,
            ok=list_of(ref("Lottery")), errors=(400,), params=PAGING,
            description="With a login, each carries the viewer's draws (me).")},
        "/api/v1/lotteries/{id}": {"get": op(
            "One points lottery: its prizes with their probability now and what is left",
            tags=tags, auth=False, ok=ref("Lottery"), errors=(404,),
            params=[path_param("id", INT)])},
        "/api/v1/lotteries/{id}/draws": {"post": op(
            "Draw once: spends points_cost points and gives a prize, in one transaction",
            tags=tags, status=201, idempotent=True, params=[path_param("id", INT)],
            ok={"allOf": [ref("LotteryDraw"), obj({"points_balance": {
                **INT, "description": "the balance the draw left"}})]}, errors=(404, 409),
            description="Idempotency-Key is required here (400 VALIDATION_FAILED without "
                        "it); the body is empty. The same key answers the first draw again "
                        "and spends nothing, even after 24 h. Errors: POINTS_INSUFFICIENT, "
                        "LOTTERY_NOT_STARTED, LOTTERY_ENDED, LOTTERY_DAILY_LIMIT_REACHED, "
                        "LOTTERY_TOTAL_LIMIT_REACHED, LOTTERY_NOT_FOUND.")},
        "/api/v1/me/lottery-draws": {"get": op(
            "The consumer's own draws, newest first", tags=tags,
            ok=list_of(ref("LotteryDraw")), errors=(400,),
            params=[query_param("lottery_id", INT, "only this lottery's"), *PAGING])},
    }


OPENAPI = _openapi()
