"""Operators oversee the cooperations between merchants (admin:merchants): the list, one
cooperation with its history and what it brought, and ending one that breaks the rules."""
from __future__ import annotations

from alliance.cooperation import queries, services
from alliance.cooperation.models import STATUSES
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

PERMISSION = "admin:merchants"


class AdminCooperationsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        merchant_id = v.query_int(self.query("merchant_id"), "merchant_id", default=None,
                                  minimum=1, maximum=2**31 - 1)
        status = self.query("status")
        queries.check_filters(None, status)
        self.write_json(await self.run_sync(queries.operator_cooperations, merchant_id, status,
                                            self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


class AdminCooperationHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, cooperation_id: str):
        self.write_json(await self.run_sync(lambda: queries.cooperation_detail(
            services.found(int(cooperation_id)), None)))


class AdminCooperationEndHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    @idempotent
    async def post(self, cooperation_id: str):
        body, operator, notifier = self.json_body(), self.principal.id, self.ctx.notifier

        def end() -> dict:
            cooperation = services.terminate(notifier, int(cooperation_id), operator, body)
            return queries.cooperation_detail(cooperation, None)

        self.write_json(await self.run_sync(end))


def routes() -> list:
    one = r"/api/admin/v1/cooperations/([0-9]{1,10})"
    return [(r"/api/admin/v1/cooperations", AdminCooperationsHandler),
            (one, AdminCooperationHandler),
            (one + "/end", AdminCooperationEndHandler)]


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, obj, op, path_param, query_param, ref

    tags = ["admin merchants"]
    one = [path_param("id", INT)]
    reason = obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500,
                             "description": "why (told to both merchants in the history)"}},
                 ["reason"])
    return {
        "/api/admin/v1/cooperations": {"get": op(
            "Every cooperation between merchants (of one merchant, either side), newest first",
            tags=tags, ok=list_of(ref("Cooperation")), errors=(400, 403),
            params=[query_param("merchant_id", INT),
                    query_param("status", {"type": "string", "enum": list(STATUSES)}),
                    *PAGING])},
        "/api/admin/v1/cooperations/{id}": {"get": op(
            "One cooperation: its terms, what it brought and its history (who proposed, "
            "countered, answered, when; merchant_id null: the platform)", tags=tags,
            ok=ref("CooperationDetail"), errors=(403, 404), params=one)},
        "/api/admin/v1/cooperations/{id}/end": {"post": op(
            "End an open (proposed or accepted) cooperation that breaks the rules, with a "
            "reason (audited; both merchants are told; its coupon distributions end)",
            tags=tags, body=reason, ok=ref("CooperationDetail"), errors=(403, 404, 409),
            idempotent=True, params=one,
            description="409 COOPERATION_STATUS_CONFLICT when it is no longer open, "
                        "COOPERATION_EXPIRED when its proposal expired")},
    }


OPENAPI = _openapi()
