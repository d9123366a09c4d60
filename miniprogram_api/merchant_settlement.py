"""Merchant staff who may see money (merchant:finance: owners and managers): the merchant's
settlement statements, their lines and items."""
from __future__ import annotations

from alliance.settlement.queries import (CSV_DESCRIPTION, merchant_statements, statement_csv,
                                         statement_detail, statement_items)
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated

PERMISSION = "merchant:finance"


class StatementsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership(PERMISSION)
        self.write_json(await self.run_sync(merchant_statements, membership.merchant_id,
                                            self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


class StatementHandler(StaffHandler):
    @authenticated()
    async def get(self, statement_id: str):
        membership = await self.membership(PERMISSION)
        self.write_json(await self.run_sync(statement_detail, int(statement_id),
                                            membership.merchant_id))


class StatementItemsHandler(StaffHandler):
    @authenticated()
    async def get(self, statement_id: str):
        membership = await self.membership(PERMISSION)
        self.write_json(await self.run_sync(statement_items, int(statement_id),
                                            membership.merchant_id, self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


class StatementCsvHandler(StaffHandler):
    @authenticated()
    async def get(self, statement_id: str):
        merchant_id = (await self.membership(PERMISSION)).merchant_id
        await self.write_csv(f"statement-{statement_id}.csv",
                             lambda after: statement_csv(int(statement_id), merchant_id, after))


def routes() -> list:
    return [(r"/api/v1/merchant/statements", StatementsHandler),
            (r"/api/v1/merchant/statements/([0-9]{1,10})", StatementHandler),
            (r"/api/v1/merchant/statements/([0-9]{1,10})/items", StatementItemsHandler),
            (r"/api/v1/merchant/statements/([0-9]{1,10})/items\.csv", StatementCsvHandler)]


LINES = ("sales (+ what was paid), refunds (-), platform_commission (- charged per order, + "
         "given back by refunds), partner_commission (+ owed to the merchant by a partner, - "
         "owed by it), and the lines of other sources (coupon_subsidy, points_subsidy, "
         "campaign_subsidy, cooperation_share)")


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj

    nullable_time = {**TIME, "nullable": True}
    label = {**STR, "description": "the line as the merchant reads it (销售收入, 平台佣金, ...)"}
    line = obj({"line": STR, "label": label, "amount_fen": FEN, "item_count": INT},
               ["line", "label", "amount_fen", "item_count"])
    return {
        "SettlementStatement": obj({
            "id": INT, "merchant_id": INT, "merchant_name": {**STR, "nullable": True},
            "period": {**STR, "description": "YYYY-MM, an Asia/Shanghai calendar month"},
            "period_start": TIME, "period_end": TIME,
            "status": {"type": "string", "enum": ["issued", "paid"]},
            "net_fen": {**FEN, "description": "the sum of the items: > 0 the platform pays "
                                              "the merchant, < 0 the merchant owes"},
            "item_count": INT,
            "lines": {"type": "array", "items": line, "description": LINES},
            "issued_at": TIME, "paid_at": nullable_time,
            "payout_reference": {**STR, "nullable": True}},
            ["id", "merchant_id", "period", "status", "net_fen", "lines"]),
        "SettlementItem": obj({
            "id": INT, "line": STR, "label": label,
            "source_type": {**STR, "description": "order_paid, refund, platform_commission, "
                                                  "platform_commission_back, commission, ..."},
            "source_id": STR, "order_no": {**STR, "nullable": True},
            "amount_fen": {**FEN, "description": "signed from the merchant's side"},
            "basis_fen": {**FEN, "description": "what a rate was applied to (else 0)"},
            "rate_bp": {**INT, "nullable": True, "description": "that rate, basis points"},
            "counterparty_merchant_id": {**INT, "nullable": True,
                                         "description": "null: the platform"},
            "occurred_at": TIME},
            ["id", "line", "source_type", "source_id", "amount_fen", "occurred_at"]),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, csv_answer, list_of, op, path_param, ref

    tags = ["merchant settlement"]
    one = [*MERCHANT_CHOICE, path_param("id", INT)]
    return {
        "/api/v1/merchant/statements": {"get": op(
            "The merchant's settlement statements, newest period first (merchant:finance)",
            tags=tags, ok=list_of(ref("SettlementStatement")), errors=(400, 403),
            params=[*MERCHANT_CHOICE, *PAGING],
            description="Issued monthly by the scheduler (`settlement.close_month`) for the "
                        "previous Asia/Shanghai month. Money in fen.")},
        "/api/v1/merchant/statements/{id}": {"get": op(
            "One statement with its lines (another merchant's: 404 STATEMENT_NOT_FOUND)",
            tags=tags, ok=ref("SettlementStatement"), errors=(403, 404), params=one)},
        "/api/v1/merchant/statements/{id}/items": {"get": op(
            "A statement's items, one per event counted, in the order counted",
            tags=tags, ok=list_of(ref("SettlementItem")), errors=(400, 403, 404),
            params=[*one, *PAGING])},
        "/api/v1/merchant/statements/{id}/items.csv": {"get": csv_answer(op(
            "A statement's items as one CSV file, for a spreadsheet", tags=tags,
            errors=(403, 404), params=one), CSV_DESCRIPTION)},
    }


OPENAPI = _openapi()
