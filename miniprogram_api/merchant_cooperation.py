"""Merchant staff negotiate cooperations with other merchants (merchant:marketing)."""
from __future__ import annotations

from alliance.cooperation import queries, services
from alliance.cooperation.models import KINDS, STATUSES
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated, idempotent

PERMISSION = "merchant:marketing"
ACTIONS = {"counter": services.counter, "accept": services.accept, "reject": services.reject,
           "withdraw": services.withdraw, "end": services.end}


class CooperationsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership(PERMISSION)
        direction, status = self.query("direction"), self.query("status")
        queries.check_filters(direction, status)
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.merchant_cooperations,
                                            membership.merchant_id, direction, status,
                                            self.query("cursor"), limit))

    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership(PERMISSION)
        body, staff, notifier = self.json_body(), self.principal.id, self.ctx.notifier
        merchant_id = membership.merchant_id

        def propose() -> dict:
            cooperation = services.propose(notifier, merchant_id, staff, body)
            return queries.cooperation_detail(cooperation, merchant_id)

        self.write_json(await self.run_sync(propose), 201)


class CooperationHandler(StaffHandler):
    @authenticated()
    async def get(self, cooperation_id: str):
        membership = await self.membership(PERMISSION)
        merchant_id = membership.merchant_id
        self.write_json(await self.run_sync(lambda: queries.cooperation_detail(
            services.visible(int(cooperation_id), merchant_id), merchant_id)))


class CooperationActionHandler(StaffHandler):
    def initialize(self, action: str) -> None:
        self.action = ACTIONS[action]

    @authenticated()
    @idempotent
    async def post(self, cooperation_id: str):
        membership = await self.membership(PERMISSION)
        body, staff, notifier = self.json_body(), self.principal.id, self.ctx.notifier
        merchant_id, act = membership.merchant_id, self.action

        def run() -> dict:
            cooperation = act(notifier, int(cooperation_id), merchant_id, staff, body)
            return queries.cooperation_detail(cooperation, merchant_id)

        self.write_json(await self.run_sync(run))


def routes() -> list:
    return [
        (r"/api/v1/merchant/cooperations", CooperationsHandler),
        (r"/api/v1/merchant/cooperations/([0-9]{1,10})", CooperationHandler),
        *[(rf"/api/v1/merchant/cooperations/([0-9]{{1,10}})/{action}", CooperationActionHandler,
           {"action": action}) for action in ACTIONS],
    ]


def _schemas() -> dict:
    from server.openapi import BOOL, FEN, INT, STR, TIME, obj

    party = obj({"merchant_id": INT, "name": STR})
    terms = {
        "commission_fen": {**FEN, "description": "owed by the proposer to the partner per "
                                                 "coupon it handed out that is redeemed or used"},
        "sales_share_bp": {"type": "integer", "minimum": 0, "maximum": 10000,
                           "description": "the partner's share of what orders paid with "
                                          "those coupons, in basis points"},
        "template_ids": {"type": "array", "items": INT, "maxItems": 20,
                         "description": "coupon_distribution only: the proposer's active "
                                        "templates with the partner channel"},
        "description": {"type": "string", "maxLength": 500},
        "ends_at": {**TIME, "nullable": True}}
    results = obj({
        "coupons_claimed": INT, "customers": {**INT, "description": "distinct customers"},
        "coupons_used": {**INT, "description": "used in a paid order"},
        "coupons_redeemed": {**INT, "description": "redeemed at a counter"},
        "commission_count": INT,
        "commission_fen": {**FEN, "description": "commissions owed by the proposer to the "
                                                 "partner for those coupons (not cancelled)"},
        "orders": INT, "sales_fen": {**FEN, "description": "paid by those orders"},
        "refunded_fen": FEN})
    event = obj({"id": INT, "action": {"type": "string", "enum": list(services.ACTION_TEXT)},
                 "merchant_id": {**INT, "nullable": True,
                                 "description": "null: the platform (ends_at came, or an "
                                                "operator ended it)"},
                 "merchant_name": {**STR, "nullable": True},
                 "staff_user_id": {**INT, "nullable": True},
                 "version": INT, "terms": obj(terms), "message": STR, "at": TIME})
    cooperation = obj({
        "id": INT, "kind": {"type": "string", "enum": list(KINDS)},
        "status": {"type": "string", "enum": list(STATUSES)},
        "direction": {"type": "string", "enum": ["incoming", "outgoing"],
                      "description": "merchant staff only"},
        "my_turn": {**BOOL, "description": "merchant staff only: the caller's merchant answers"},
        "proposer": party, "partner": party,
        "turn_merchant_id": {**INT, "nullable": True}, "version": INT,
        "terms": obj(terms), "results": results, "created_at": TIME, "updated_at": TIME,
        "accepted_at": {**TIME, "nullable": True}, "closed_at": {**TIME, "nullable": True},
        "answer_by": {**TIME, "description": "proposals only: when it lapses unanswered (its "
                      "ends_at, or 30 days after its latest terms, whichever comes first)"}})
    return {
        "Cooperation": cooperation,
        "CooperationDetail": {"allOf": [cooperation, obj({"history": {"type": "array",
                                                                      "items": event}})]},
        "CooperationProposal": obj({"partner_merchant_id": INT,
                                    "kind": {"type": "string", "enum": list(KINDS)},
                                    "message": {"type": "string", "maxLength": 500}, **terms},
                                   ["partner_merchant_id", "kind"]),
        "CooperationCounter": obj({"version": INT, "message": {"type": "string",
                                                               "maxLength": 500}, **terms},
                                  description="the terms named change; version: the terms "
                                              "read (409 COOPERATION_TERMS_CHANGED if newer)"),
        "CooperationAnswer": obj({"version": INT,
                                  "message": {"type": "string", "maxLength": 500}}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, op, path_param, query_param, ref

    tags = ["merchant cooperation"]
    one = [path_param("id", INT), *MERCHANT_CHOICE]
    summaries = {
        "counter": ("Propose other terms (the side whose turn it is); the turn passes",
                    "CooperationCounter"),
        "accept": ("Accept the current terms (the side whose turn it is); a coupon "
                   "distribution starts at the partner", "CooperationAnswer"),
        "reject": ("Reject the current terms (the side whose turn it is)", "CooperationAnswer"),
        "withdraw": ("Withdraw a proposal not yet accepted (the proposer)", "CooperationAnswer"),
        "end": ("End an accepted cooperation (either side); its distributions end, coupons "
                "handed out keep their terms", "CooperationAnswer")}
    paths = {
        "/api/v1/merchant/cooperations": {
            "get": op("The merchant's cooperations, newest first", tags=tags,
                      ok=list_of(ref("Cooperation")), errors=(400, 403),
                      params=[query_param("direction", {"type": "string",
                                                        "enum": list(queries.DIRECTIONS)}),
                              query_param("status", {"type": "string", "enum": list(STATUSES)}),
                              *PAGING, *MERCHANT_CHOICE]),
            "post": op("Propose a cooperation to another merchant", tags=tags, status=201,
                       body=ref("CooperationProposal"), ok=ref("CooperationDetail"),
                       errors=(403,), idempotent=True, params=MERCHANT_CHOICE)},
        "/api/v1/merchant/cooperations/{id}": {"get": op(
            "One cooperation of the merchant: terms, what it brought, history", tags=tags,
            ok=ref("CooperationDetail"), errors=(403, 404), params=one)},
    }
    for action, (summary, body) in summaries.items():
        paths[f"/api/v1/merchant/cooperations/{{id}}/{action}"] = {"post": op(
            summary, tags=tags, body=ref(body), ok=ref("CooperationDetail"),
            errors=(403, 404, 409), idempotent=True, params=one)}
    return paths


OPENAPI = _openapi()
