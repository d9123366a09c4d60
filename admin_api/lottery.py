"""Operators run points lotteries (积分抽奖): create and change them while drafts, put them
live, end them, add or take prize stock, and read their results (``admin:campaigns``)."""
from __future__ import annotations

from alliance.lottery import queries, services
from alliance.lottery.models import STATUSES
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

PERMISSION = "admin:campaigns"


class LotteriesHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        status = v.optional_choice(self.query("status"), "status", STATUSES)
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.admin_lotteries, status,
                                            self.query("cursor"), limit))

    @authenticated(PERMISSION, kind="operator")
    @idempotent
    async def post(self):
        body, operator = self.json_body(), self.principal.id
        self.write_json(await self.run_sync(
            lambda: queries.admin_lottery(services.create_lottery(body, operator).id)), 201)


class LotteryHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, lottery_id: str):
        self.write_json(await self.run_sync(queries.admin_lottery, int(lottery_id)))

    @authenticated(PERMISSION, kind="operator")
    async def patch(self, lottery_id: str):
        changes, operator = self.json_body(), self.principal.id
        self.write_json(await self.run_sync(lambda: queries.admin_lottery(
            services.update_lottery(int(lottery_id), operator, changes).id)))


class LotteryActivateHandler(BaseHandler):
    change = staticmethod(services.activate_lottery)

    @authenticated(PERMISSION, kind="operator")
    async def post(self, lottery_id: str):
        change, operator = self.change, self.principal.id
        self.write_json(await self.run_sync(
            lambda: queries.admin_lottery(change(int(lottery_id), operator).id)))


class LotteryEndHandler(LotteryActivateHandler):
    change = staticmethod(services.end_lottery)


class PrizeStockHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def post(self, lottery_id: str, prize_id: str):
        body, operator = self.json_body(), self.principal.id

        def restock():
            services.restock_prize(int(lottery_id), int(prize_id), operator, body)
            return queries.admin_lottery(int(lottery_id))

        self.write_json(await self.run_sync(restock))


class LotteryDrawsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, lottery_id: str):
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.admin_draws, int(lottery_id),
                                            self.query("cursor"), limit))


def routes() -> list:
    lottery = r"/api/admin/v1/lotteries/([0-9]{1,10})"
    return [(r"/api/admin/v1/lotteries", LotteriesHandler),
            (lottery, LotteryHandler),
            (lottery + "/activate", LotteryActivateHandler),
            (lottery + "/end", LotteryEndHandler),
            (lottery + r"/prizes/([0-9]{1,10})/stock", PrizeStockHandler),
            (lottery + "/draws", LotteryDrawsHandler)]


def _schemas() -> dict:
    from server.openapi import INT, STR, TIME, obj

    nullable_int = {"type": "integer", "nullable": True}
    kind = {"type": "string", "enum": ["coupon", "points", "none"]}
    prize_input = obj({
        "kind": kind,
        "name": {**STR, "maxLength": 64, "description": "default: the coupon's name, "
                                                        "\"N 积分\" or 谢谢参与"},
        "coupon_template_id": {**INT, "description": "coupon: a platform coupon template "
                                                     "that has not ended"},
        "points": {**INT, "minimum": 1, "maximum": 1000000, "description": "points: credited"},
        "weight": {**INT, "minimum": 0, "maximum": 1000000,
                   "description": "probability = weight / the sum of the prizes' weights"},
        "stock": {**nullable_int, "minimum": 0, "description": "coupon: required; points: "
                                                               "null is unlimited; none: "
                                                               "never (unlimited)"}},
        ["kind", "weight"])
    fields = {
        "title": {**STR, "maxLength": 64}, "description": {**STR, "maxLength": 500},
        "points_cost": {**INT, "minimum": 1, "maximum": 1000000,
                        "description": "points one draw costs"},
        "starts_at": TIME, "ends_at": {**TIME, "description": "after starts_at and now, at "
                                                              "most 366 days after the start"},
        "daily_limit": {**nullable_int, "minimum": 1, "maximum": 1000,
                        "description": "draws per user per Asia/Shanghai day; null: none"},
        "total_limit": {**nullable_int, "minimum": 1, "maximum": 100000,
                        "description": "draws per user in all; null: none"},
        "prizes": {"type": "array", "minItems": 2, "maxItems": 12, "items": prize_input,
                   "description": "exactly one of kind none (谢谢参与)"}}
    state = {"type": "string", "enum": ["draft", "upcoming", "running", "ended"]}
    summary = {
        "id": INT, "title": STR, "description": STR, "points_cost": INT, "starts_at": TIME,
        "ends_at": TIME, "daily_limit": nullable_int, "total_limit": nullable_int,
        "state": state, "status": {"type": "string", "enum": list(STATUSES)},
        "created_by": INT, "created_at": TIME, "updated_at": TIME,
        "activated_at": {**TIME, "nullable": True}, "ended_at": {**TIME, "nullable": True},
        "prize_count": INT, "draws": INT,
        "points_taken": {**INT, "description": "points spent on its draws"}}
    prize = obj({"id": INT, "position": INT, "kind": kind, "name": STR,
                 "coupon_template_id": nullable_int,
                 "coupon_template_name": {**STR, "nullable": True},
                 "points": nullable_int, "weight": INT,
                 "probability": {"type": "number", "description": "weight / sum of weights"},
                 "stock_total": nullable_int, "stock_left": nullable_int,
                 "picked": {**INT, "description": "draws that picked it"},
                 "awarded": {**INT, "description": "draws that gave it (a picked prize that "
                                                   "could not be given gave 谢谢参与)"}})
    return {
        "LotteryInput": obj(fields, ["title", "points_cost", "starts_at", "ends_at", "prizes"]),
        "LotteryChanges": obj(fields, description="draft: any field (prizes replaces the "
                                                  "list); active: title, description, "
                                                  "ends_at only"),
        "StaffLotterySummary": obj(summary),
        "StaffLottery": obj({**summary, "entrants": INT, "points_awarded": INT,
                             "coupons_awarded": INT, "prizes": {"type": "array",
                                                                "items": prize}}),
        "StaffLotteryDraw": obj({"id": INT, "lottery_id": INT, "user_id": INT,
                                 "picked_prize_id": INT, "prize_id": INT, "prize_kind": kind,
                                 "prize_name": STR, "fell_back": {"type": "boolean"},
                                 "won": {"type": "boolean"}, "points_cost": INT,
                                 "points_awarded": INT, "coupon_id": nullable_int,
                                 "created_at": TIME}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, obj, op, path_param, query_param, ref

    tags = ["admin lottery"]
    one = [path_param("id", INT)]
    return {
        "/api/admin/v1/lotteries": {
            "get": op("Every points lottery, newest first, with its draws and points taken",
                      tags=tags, ok=list_of(ref("StaffLotterySummary")), errors=(400, 403),
                      params=[query_param("status", {"type": "string",
                                                     "enum": list(STATUSES)}), *PAGING]),
            "post": op("Create a points lottery, a draft (audited)", tags=tags, status=201,
                       body=ref("LotteryInput"), ok=ref("StaffLottery"), errors=(403,),
                       idempotent=True,
                       description="Invalid fields answer 400 VALIDATION_FAILED naming "
                                   "details.field (prizes[i].weight, ...).")},
        "/api/admin/v1/lotteries/{id}": {
            "get": op("A lottery with its prizes and results (draws, entrants, points "
                      "taken and awarded, per prize picked and awarded)", tags=tags,
                      ok=ref("StaffLottery"), errors=(403, 404), params=one),
            "patch": op("Change a lottery (audited): a draft in whole, an active one only "
                        "its title, description and end", tags=tags,
                        body=ref("LotteryChanges"), ok=ref("StaffLottery"),
                        errors=(403, 404, 409), params=one,
                        description="LOTTERY_STATE_CONFLICT: ended, or a field an active "
                                    "lottery keeps (details.field).")},
        "/api/admin/v1/lotteries/{id}/activate": {"post": op(
            "Put a draft live: consumers draw from its start (audited)", tags=tags,
            ok=ref("StaffLottery"), errors=(403, 404, 409), params=one,
            description="LOTTERY_STATE_CONFLICT: not a draft, its end has passed, or a "
                        "coupon prize's template has ended.")},
        "/api/admin/v1/lotteries/{id}/end": {"post": op(
            "End a draft or active lottery now (audited); no draw commits after it",
            tags=tags, ok=ref("StaffLottery"), errors=(403, 404, 409), params=one)},
        "/api/admin/v1/lotteries/{id}/prizes/{prize_id}/stock": {"post": op(
            "Add to (delta > 0) or take from (delta < 0) a limited prize's stock, of a "
            "lottery that has not ended (audited)", tags=tags,
            body=obj({"delta": {**INT, "description": "not 0"}}, ["delta"]),
            ok=ref("StaffLottery"), errors=(403, 404, 409),
            params=[*one, path_param("prize_id", INT)],
            description="LOTTERY_PRIZE_STOCK_SHORT: less is left than taken; "
                        "LOTTERY_STATE_CONFLICT: ended, or an unlimited prize.")},
        "/api/admin/v1/lotteries/{id}/draws": {"get": op(
            "A lottery's draws, newest first (fell_back: the picked prize could not be "
            "given, 谢谢参与 was)", tags=tags, ok=list_of(ref("StaffLotteryDraw")),
            errors=(400, 403, 404), params=[*one, *PAGING])},
    }


OPENAPI = _openapi()
