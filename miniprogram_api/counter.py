"""The counter: staff scan a member code to see the member, redeem coupon and service
codes (and undo a redemption), and award points for purchases."""
from __future__ import annotations

import datetime as dt

import alliance.coupons.redeem  # noqa: F401  (registers the coupon code kind)
from alliance.errors import ValidationFailed
from alliance.members.queries import award_view, member_at_counter
from alliance.members.awards import award_points
from alliance.members.services import counter_shop
from alliance.redemptions import queries as redemption_queries
from alliance.redemptions.services import redeem, undo_redemption
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated, idempotent

MAX_ID = 2**31 - 1


class CounterHandler(StaffHandler):
    def undo_window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.ctx.settings.redemption_undo_minutes)

    def shop_id(self, body: dict) -> int | None:
        return v.integer(body, "shop_id", required=False, minimum=1, maximum=MAX_ID)


class MemberLookupHandler(CounterHandler):
    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership("merchant:redeem")
        payload = v.string(self.json_body(), "payload", max_length=256)
        codes = self.ctx.member_codes

        def look_up():
            return member_at_counter(codes.consume(payload), membership.merchant_id)

        self.write_json(await self.run_sync(look_up))


class RedemptionsHandler(CounterHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(redemption_queries.merchant_redemptions,
                                            membership.merchant_id, self.undo_window(),
                                            self.query("cursor"), limit))

    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership("merchant:redeem")
        body = self.json_body()
        code, shop_id = v.string(body, "code", max_length=64), self.shop_id(body)
        staff, notifier, window = self.principal.id, self.ctx.notifier, self.undo_window()

        def work():
            redemption, done = redeem(code, merchant_id=membership.merchant_id,
                                      staff_user_id=staff, notifier=notifier, shop_id=shop_id)
            return redemption_queries.one_redemption(redemption, window, done.details)

        self.write_json(await self.run_sync(work), 201)


class UndoRedemptionHandler(CounterHandler):
    @authenticated()
    async def post(self, redemption_id: str):
        membership = await self.membership("merchant:redeem:undo")
        staff, window = self.principal.id, self.undo_window()

        def work():
            redemption = undo_redemption(int(redemption_id), merchant_id=membership.merchant_id,
                                         staff_user_id=staff, window=window)
            return redemption_queries.one_redemption(redemption, window)

        self.write_json(await self.run_sync(work))


class PointsAwardsHandler(CounterHandler):
    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership("merchant:redeem")
        body = self.json_body()
        payload = v.string(body, "payload", required=False, max_length=256)
        user_id = v.integer(body, "user_id", required=False, minimum=1, maximum=MAX_ID)
        if (payload is None) == (user_id is None):
            raise ValidationFailed("请提供会员码 payload 或 user_id 其中之一", details={
                "field": "payload", "issue": "one of payload, user_id"})
        amount = v.integer(body, "amount_fen", minimum=1, maximum=100_000_000)
        receipt_no = v.string(body, "receipt_no", required=False, max_length=64)
        shop_id, staff = self.shop_id(body), self.principal.id
        codes, notifier = self.ctx.member_codes, self.ctx.notifier

        def work():
            # The shop first: a member code is single-use, and a wrong shop must not use it up.
            shop = counter_shop(membership.merchant_id, shop_id)
            member = codes.consume(payload) if payload is not None else user_id
            shown = payload is not None  # the member showed their code: their consent
            return award_view(award_points(membership.merchant_id, staff, member, amount,
                                           notifier=notifier, shop_id=shop,
                                           receipt_no=receipt_no, members_only=not shown),
                              with_balance=shown)

        self.write_json(await self.run_sync(work), 201)


def routes() -> list:
    return [
        (r"/api/v1/merchant/member-lookups", MemberLookupHandler),
        (r"/api/v1/merchant/redemptions", RedemptionsHandler),
        (r"/api/v1/merchant/redemptions/([0-9]{1,10})/undo", UndoRedemptionHandler),
        (r"/api/v1/merchant/points-awards", PointsAwardsHandler),
    ]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj, ref

    nullable_int = {"type": "integer", "nullable": True}
    return {
        "Redemption": obj({
            "id": INT, "kind": {"type": "string", "description": "the code kind: coupon, ..."},
            "code": STR, "status": {"type": "string", "enum": ["done", "undone"]},
            "title": STR, "merchant_id": INT, "shop_id": nullable_int, "staff_user_id": INT,
            "user_id": nullable_int, "ref_type": STR, "ref_id": STR,
            "attribution": obj({"issuer_merchant_id": nullable_int,
                                "distributor_merchant_id": nullable_int,
                                "commission_fen": {**FEN, "description": "owed by the issuer "
                                                                         "to the distributor"}}),
            "created_at": TIME, "undo_until": TIME,
            "undone_at": {**TIME, "nullable": True}, "undone_by": nullable_int,
            "details": {"type": "object", "description": "what the code kind shows (coupon)"}}),
        "MemberAtCounter": obj({
            "user": obj({"id": INT, "nickname": STR, "avatar_url": STR}),
            "level": ref("MerchantMembership"), "platform_level": ref("PlatformLevel"),
            "points": obj({"balance": INT, "lifetime_earned": INT}),
            "coupons": {"type": "array", "items": ref("Coupon"),
                        "description": "the member's coupons this counter can redeem now"}},
            ["user", "level", "points", "coupons"]),
        "PointsAward": obj({
            "id": INT, "user_id": INT, "merchant_id": INT, "shop_id": nullable_int,
            "amount_fen": FEN, "multiplier_pct": {**INT, "description": "the member's level's"},
            "member_day_multiplier_pct": {**INT, "description": "on top of it, on a member "
                                                                "day; 100: none"},
            "points": INT,
            "receipt_no": {"type": "string", "nullable": True},
            "balance": {"type": "integer", "nullable": True,
                        "description": "the member's points after it; only when awarded by "
                                       "member code, null when by user_id"},
            "replayed": {"type": "boolean", "description": "the receipt was awarded before"},
            "created_at": TIME}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, ref

    tags = ["counter"]
    shop = {"type": "integer", "description": "the counter's shop; needed when the merchant "
                                              "has several"}
    return {
        "/api/v1/merchant/member-lookups": {"post": op(
            "Scan a member code: the member's level, points and the coupons usable here",
            tags=tags, body=obj({"payload": STR}, ["payload"]), ok=ref("MemberAtCounter"),
            errors=(403, 404, 409), idempotent=True, params=MERCHANT_CHOICE,
            description="The code is single use. Errors: MEMBER_CODE_INVALID (forged or "
                        "garbled), MEMBER_CODE_EXPIRED, MEMBER_CODE_USED (replayed).")},
        "/api/v1/merchant/redemptions": {
            "get": op("The merchant's redemptions, newest first", tags=tags,
                      ok=list_of(ref("Redemption")), errors=(400, 403),
                      params=[*PAGING, *MERCHANT_CHOICE]),
            "post": op("Redeem (核销) a coupon code or an order's service code", tags=tags,
                       status=201, body=obj({"code": STR, "shop_id": shop}, ["code"]),
                       ok=ref("Redemption"), errors=(403, 404, 409, 410, 422),
                       idempotent=True, params=MERCHANT_CHOICE,
                       description="Single use even when two counters scan at once. Errors: "
                                   "CODE_ALREADY_REDEEMED, CODE_EXPIRED, CODE_NOT_VALID_HERE, "
                                   "CODE_NOT_FOUND, CODE_IN_USE (held by an unpaid order), "
                                   "CODE_NOT_YET_VALID, SHOP_ID_REQUIRED.")},
        "/api/v1/merchant/redemptions/{id}/undo": {"post": op(
            "Undo a redemption within the undo window (owner or manager)", tags=tags,
            ok=ref("Redemption"), errors=(403, 404, 409),
            params=[path_param("id", INT), *MERCHANT_CHOICE],
            description="Reverses the redemption, its commission and the visit atomically. "
                        "Errors: REDEMPTION_UNDO_EXPIRED, REDEMPTION_ALREADY_UNDONE, "
                        "COMMISSION_ALREADY_SETTLED.")},
        "/api/v1/merchant/points-awards": {"post": op(
            "Award points for a purchase at the counter (1 point per yuan x the member's "
            "multiplier here, funded by this merchant)", tags=tags, status=201,
            body=obj({"payload": {"type": "string", "description": "a member code"},
                      "user_id": {"type": "integer",
                                  "description": "instead of payload: only a consumer who "
                                                 "is already a member here (else 404 "
                                                 "MEMBER_NOT_FOUND)"},
                      "amount_fen": INT, "receipt_no": {"type": "string", "maxLength": 64,
                                                        "description": "awarded once per "
                                                                       "merchant"},
                      "shop_id": shop}, ["amount_fen"]),
            ok=ref("PointsAward"), errors=(403, 404, 409), idempotent=True,
            params=MERCHANT_CHOICE)},
    }


OPENAPI = _openapi()
