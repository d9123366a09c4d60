"""Operators (admin:settlement): close a period, read statements and their items, record
payouts, a period's summary, and a merchant's own commission rate."""
from __future__ import annotations

import asyncio
import logging

from alliance.checks import refuse_unknown
from alliance.errors import AllianceError
from alliance.merchants.admin_queries import operator_row
from alliance.settlement import queries
from alliance.settlement.periods import period_of
from alliance.settlement.services import record_payout, set_commission_rate
from alliance.settlement.statements import close_period
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

log = logging.getLogger("alliance.settlement")

PERMISSION = "admin:settlement"
ID_MAX = 2**31 - 1


class StatementsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        merchant_id = v.query_int(self.query("merchant_id"), "merchant_id", default=None,
                                  minimum=1, maximum=ID_MAX)
        self.write_json(await self.run_sync(
            queries.operator_statements, period=self.query("period"), merchant_id=merchant_id,
            status=self.query("status"), cursor=self.query("cursor"),
            limit=v.page_limit(self.query("limit"))))

    @authenticated(PERMISSION, kind="operator")
    @idempotent
    async def post(self):
        period = self.json_body().get("period")
        period_of(period)  # PERIOD_INVALID first: a list or an object names no close under way
        closing = _closing.get(period)
        if closing is None:  # not already under way in this process
            closing = _closing[period] = asyncio.ensure_future(self.run_sync(close_period, period))
            closing.add_done_callback(lambda done: _finished(period, done))
        # A month of 10k merchants takes minutes: the answer does not wait for all of it.
        done, _ = await asyncio.wait({closing}, timeout=CLOSE_WAIT_S)
        if done:
            self.write_json(closing.result())  # its errors too (PERIOD_INVALID, ...)
        else:
            self.write_json({"period": period, "status": "running"}, 202)


CLOSE_WAIT_S = 20.0
_closing: dict[object, asyncio.Future] = {}  # this process's closes under way, by period


def _finished(period, done: asyncio.Future) -> None:
    _closing.pop(period, None)
    if not done.cancelled() and done.exception() is not None \
            and not isinstance(done.exception(), AllianceError):
        log.error("closing settlement period %s failed", period, exc_info=done.exception())


class StatementHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, statement_id: str):
        self.write_json(await self.run_sync(queries.statement_detail, int(statement_id)))


class StatementItemsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, statement_id: str):
        self.write_json(await self.run_sync(queries.statement_items, int(statement_id), None,
                                            self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


class StatementCsvHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, statement_id: str):
        await self.write_csv(f"statement-{statement_id}.csv",
                             lambda after: queries.statement_csv(int(statement_id), None, after))


class PayoutHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def post(self, statement_id: str):
        reference = v.string(self.json_body(), "reference", max_length=64)

        def pay() -> dict:
            record_payout(self.principal.id, int(statement_id), reference)
            return queries.statement_detail(int(statement_id))

        self.write_json(await self.run_sync(pay))


class SummaryHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        self.write_json(await self.run_sync(queries.period_summary, self.query("period")))


class CommissionRateHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def put(self, merchant_id: str):
        body = self.json_body()
        refuse_unknown(body, {"commission_bp"})
        if "commission_bp" not in body:
            v.integer(body, "commission_bp")  # the "required" error
        bp = v.integer(body, "commission_bp", required=False, minimum=0, maximum=10_000)
        merchant = await self.run_sync(set_commission_rate, self.principal.id,
                                       int(merchant_id), bp)
        self.write_json(operator_row(merchant))


def routes() -> list:
    return [
        (r"/api/admin/v1/statements", StatementsHandler),
        (r"/api/admin/v1/statements/([0-9]{1,10})", StatementHandler),
        (r"/api/admin/v1/statements/([0-9]{1,10})/items", StatementItemsHandler),
        (r"/api/admin/v1/statements/([0-9]{1,10})/items\.csv", StatementCsvHandler),
        (r"/api/admin/v1/statements/([0-9]{1,10})/payout", PayoutHandler),
        (r"/api/admin/v1/settlement/summary", SummaryHandler),
        (r"/api/admin/v1/merchants/([0-9]{1,10})/commission-rate", CommissionRateHandler),
    ]


def _still_running(operation: dict, schema: dict) -> dict:
    operation["responses"]["202"] = {"description": "still closing: it goes on",
                                     "content": {"application/json": {"schema": schema}}}
    return operation


PERIOD = "YYYY-MM: an Asia/Shanghai calendar month (400 PERIOD_INVALID otherwise)"


def _openapi() -> dict:
    from server.openapi import (FEN, INT, PAGING, STR, csv_answer, list_of, obj, op,
                                path_param, query_param, ref)

    tags = ["admin settlement"]
    one = [path_param("id", INT)]
    closed = obj({"period": STR, "statements": {**INT, "description": "statements issued"},
                  "items": {**INT, "description": "events they counted"},
                  "skipped": {**INT, "description": "merchants whose statement another "
                                                    "process issued meanwhile"}})
    line = obj({"line": STR, "label": {**STR, "description": "the line in Chinese"},
                "amount_fen": FEN, "item_count": INT})
    summary = obj({
        "period": STR, "statements": INT,
        "by_status": {"type": "object", "additionalProperties": INT}, "net_fen": FEN,
        "lines": {"type": "array", "items": line},
        "balanced": {"type": "boolean", "description": "what merchants owe each other "
                                                       "(between_merchants_fen) nets to 0 and "
                                                       "every statement's net equals its items "
                                                       "and its lines"},
        "between_merchants_fen": {**FEN, "description": "the sum of every item with a merchant "
                                                        "as counterparty: partner commissions "
                                                        "and discounts one merchant funded at "
                                                        "another; 0 when balanced"},
        "unbalanced_statement_ids": {"type": "array", "items": INT}})
    rate = obj({"commission_bp": {"type": "integer", "minimum": 0, "maximum": 10000,
                                  "nullable": True,
                                  "description": "basis points; null: the platform's rate "
                                                 "(ALLIANCE_PLATFORM_COMMISSION_BP)"}},
               ["commission_bp"])
    return {
        "/api/admin/v1/statements": {
            "get": op("Statements, newest first", tags=tags,
                      ok=list_of(ref("SettlementStatement")), errors=(400, 403),
                      params=[query_param("period", STR, PERIOD),
                              query_param("merchant_id", INT),
                              query_param("status", {"type": "string",
                                                     "enum": ["issued", "paid"]}), *PAGING]),
            "post": _still_running(op(
                "Close a period now: issue the statements of every merchant with events "
                "not counted yet (running it again issues none)", tags=tags,
                body=obj({"period": {**STR, "description": PERIOD}}, ["period"]),
                ok=closed, errors=(400, 403, 409), idempotent=True,
                description="400 PERIOD_INVALID unless period is a YYYY-MM string; "
                            "409 PERIOD_NOT_CLOSED before the period's end. The scheduler's "
                            "`settlement.close_month` does the same on the 1st of each month "
                            "for the previous month. A close that takes longer than "
                            f"{CLOSE_WAIT_S:.0f} s (thousands of merchants) is answered 202 and "
                            "goes on: its statements appear in the list as they are issued, "
                            "and asking again meanwhile starts no second one in this process."),
                obj({"period": STR, "status": {"type": "string", "enum": ["running"]}}))},
        "/api/admin/v1/statements/{id}": {"get": op(
            "One statement with its lines", tags=tags, ok=ref("SettlementStatement"),
            errors=(403, 404), params=one)},
        "/api/admin/v1/statements/{id}/items": {"get": op(
            "A statement's items", tags=tags, ok=list_of(ref("SettlementItem")),
            errors=(400, 403, 404), params=[*one, *PAGING])},
        "/api/admin/v1/statements/{id}/items.csv": {"get": csv_answer(op(
            "A statement's items as one CSV file, for a spreadsheet", tags=tags,
            errors=(403, 404), params=one), queries.CSV_DESCRIPTION)},
        "/api/admin/v1/statements/{id}/payout": {"post": op(
            "Record the statement's payout: issued -> paid (the same reference again is "
            "harmless; another: 409 STATEMENT_ALREADY_PAID)", tags=tags,
            body=obj({"reference": {"type": "string", "maxLength": 64}}, ["reference"]),
            ok=ref("SettlementStatement"), errors=(403, 404, 409), params=one)},
        "/api/admin/v1/settlement/summary": {"get": op(
            "A period's statements added up per line, and whether they balance", tags=tags,
            ok=summary, errors=(400, 403),
            params=[{**query_param("period", STR, PERIOD), "required": True}])},
        "/api/admin/v1/merchants/{id}/commission-rate": {"put": op(
            "Set a merchant's own platform commission rate (audited)", tags=tags, body=rate,
            ok=ref("OperatorMerchant"), errors=(403, 404), params=one)},
    }


OPENAPI = _openapi()
