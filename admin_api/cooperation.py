"""Operators oversee the cooperations between merchants (admin:merchants)."""
from __future__ import annotations

from alliance.cooperation import queries
from alliance.cooperation.models import STATUSES
from server import validation as v
from server.base import BaseHandler, authenticated

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


def routes() -> list:
    return [(r"/api/admin/v1/cooperations", AdminCooperationsHandler)]


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, op, query_param, ref

    return {"/api/admin/v1/cooperations": {"get": op(
        "Every cooperation between merchants (of one merchant, either side), newest first",
        tags=["admin merchants"], ok=list_of(ref("Cooperation")), errors=(400, 403),
        params=[query_param("merchant_id", INT),
                query_param("status", {"type": "string", "enum": list(STATUSES)}),
                *PAGING])}}


OPENAPI = _openapi()
