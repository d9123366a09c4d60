"""Reading statements: a merchant's, any for operators, their items, a period's summary."""
from __future__ import annotations

import csv
import io
from collections import defaultdict

from peewee import fn

from alliance.clock import to_local_iso
from alliance.errors import NotFound, ValidationFailed
from alliance.merchants.models import Merchant
from alliance.money import yuan
from alliance.paging import after, decode_keys, keyset_page, newest_first
from alliance.settlement.models import (STATEMENT_STATUSES, SettlementItem, SettlementLine,
                                        SettlementStatement)
from alliance.settlement.periods import period_of

CSV_BATCH = 2000  # items per read of a statement's CSV
CSV_HEADER = ("明细编号", "项目", "来源类型", "来源编号", "订单号", "对方", "金额（分）", "金额（元）",
              "计费基数（分）", "费率（基点）", "发生时间")
CSV_DESCRIPTION = ("UTF-8 with a BOM, one row per item in the order counted: " + "、".join(CSV_HEADER)
                   + ". Amounts signed from the merchant's side, in fen and in yuan; times in "
                     "Asia/Shanghai.")
# What a merchant or a clerk reads for each line (the views' ``label``, the CSV's 项目).
LINE_NAMES = {"sales": "销售收入", "refunds": "退款", "platform_commission": "平台佣金",
              "partner_commission": "合作佣金", "coupon_subsidy": "优惠券补贴",
              "points_subsidy": "积分补贴", "campaign_subsidy": "活动补贴",
              "cooperation_share": "合作分成"}


class StatementNotFound(NotFound):
    code = "STATEMENT_NOT_FOUND"
    message = "对账单不存在"


def get_statement(statement_id: int, merchant_id: int | None = None) -> SettlementStatement:
    """The statement (of ``merchant_id`` when given: another merchant's is not found)."""
    query = SettlementStatement.select().where(SettlementStatement.id == statement_id)
    if merchant_id is not None:
        query = query.where(SettlementStatement.merchant_id == merchant_id)
    statement = query.first()
    if statement is None:
        raise StatementNotFound(details={"statement_id": statement_id})
    return statement


def statement_view(statement: SettlementStatement, lines: list[SettlementLine],
                   merchant_name: str | None = None) -> dict:
    """A statement with its lines: money in fen, signed from the merchant's side (net > 0:
    the platform pays the merchant)."""
    return {"id": statement.id, "merchant_id": statement.merchant_id,
            "merchant_name": merchant_name, "period": statement.period,
            "period_start": to_local_iso(statement.period_start),
            "period_end": to_local_iso(statement.period_end), "status": statement.status,
            "net_fen": statement.net_fen, "item_count": statement.item_count,
            "lines": [{"line": line.line, "label": line_label(line.line),
                       "amount_fen": line.amount_fen,
                       "item_count": line.item_count}
                      for line in sorted(lines, key=lambda line: line.line)],
            "issued_at": to_local_iso(statement.issued_at),
            "paid_at": to_local_iso(statement.paid_at),
            "payout_reference": statement.payout_reference}


def _views(statements: list[SettlementStatement]) -> list[dict]:
    ids = [statement.id for statement in statements]
    lines: dict[int, list[SettlementLine]] = defaultdict(list)
    names: dict[int, str] = {}
    if ids:
        for line in SettlementLine.select().where(SettlementLine.statement.in_(ids)):
            lines[line.statement_id].append(line)
        names = dict(Merchant.select(Merchant.id, Merchant.name)
                     .where(Merchant.id.in_({s.merchant_id for s in statements})).tuples())
    return [statement_view(s, lines[s.id], names.get(s.merchant_id)) for s in statements]


def statement_detail(statement_id: int, merchant_id: int | None = None) -> dict:
    """One statement with its lines (STATEMENT_NOT_FOUND)."""
    [view] = _views([get_statement(statement_id, merchant_id)])
    return view


def merchant_statements(merchant_id: int, cursor: str | None, limit: int) -> dict:
    """The merchant's statements, newest period first."""
    keys = decode_keys(cursor, (str,))
    query = SettlementStatement.select().where(SettlementStatement.merchant_id == merchant_id)
    if keys is not None:
        query = query.where(SettlementStatement.period < keys[0])
    rows = list(query.order_by(SettlementStatement.period.desc()).limit(limit + 1))
    page, next_cursor = keyset_page(rows, limit, lambda s: (s.period,))
    return {"items": _views(page), "next_cursor": next_cursor}


def operator_statements(*, period: str | None, merchant_id: int | None, status: str | None,
                        cursor: str | None, limit: int) -> dict:
    """Statements newest first, by period, merchant and status."""
    query = SettlementStatement.select()
    if period is not None:
        query = query.where(SettlementStatement.period == period_of(period).name)
    if merchant_id is not None:
        query = query.where(SettlementStatement.merchant_id == merchant_id)
    if status is not None:
        if status not in STATEMENT_STATUSES:
            raise ValidationFailed("对账单状态不正确", details={
                "field": "status", "choices": list(STATEMENT_STATUSES)})
        query = query.where(SettlementStatement.status == status)
    page, next_cursor = newest_first(query, SettlementStatement.id, cursor, limit)
    return {"items": _views(page), "next_cursor": next_cursor}


def item_view(item: SettlementItem) -> dict:
    return {"id": item.id, "line": item.line, "label": line_label(item.line),
            "source_type": item.source_type,
            "source_id": item.source_id, "order_no": item.order_no,
            "amount_fen": item.amount_fen, "basis_fen": item.basis_fen, "rate_bp": item.rate_bp,
            "counterparty_merchant_id": item.counterparty_merchant_id,
            "occurred_at": to_local_iso(item.occurred_at)}


def statement_items(statement_id: int, merchant_id: int | None, cursor: str | None,
                    limit: int) -> dict:
    """A statement's items in the order they were counted (STATEMENT_NOT_FOUND)."""
    get_statement(statement_id, merchant_id)
    keys = decode_keys(cursor, (int,))
    query = SettlementItem.select().where(SettlementItem.statement == statement_id)
    if keys is not None:
        query = query.where(after((SettlementItem.id,), keys, descending=False))
    rows = list(query.order_by(SettlementItem.id).limit(limit + 1))
    page, next_cursor = keyset_page(rows, limit, lambda item: (item.id,))
    return {"items": [item_view(item) for item in page], "next_cursor": next_cursor}


def period_summary(period: str) -> dict:
    """The period's statements added up per line, and whether they balance: what merchants
    owe each other (partner commissions, discounts one funded at another) nets to 0, and
    every statement's net equals its items and its lines."""
    name = period_of(period).name
    in_period = SettlementStatement.period == name
    lines = {line: (int(amount), count) for line, amount, count in
             SettlementLine.select(SettlementLine.line, fn.SUM(SettlementLine.amount_fen),
                                   fn.SUM(SettlementLine.item_count))
             .join(SettlementStatement).where(in_period).group_by(SettlementLine.line).tuples()}
    nets = dict(SettlementStatement.select(SettlementStatement.id, SettlementStatement.net_fen)
                .where(in_period).tuples())
    by_items = _sums(SettlementItem.select(SettlementItem.statement,
                                           fn.SUM(SettlementItem.amount_fen))
                     .join(SettlementStatement).where(in_period)
                     .group_by(SettlementItem.statement))
    by_lines = _sums(SettlementLine.select(SettlementLine.statement,
                                           fn.SUM(SettlementLine.amount_fen))
                     .join(SettlementStatement).where(in_period)
                     .group_by(SettlementLine.statement))
    unbalanced = sorted(sid for sid, net in nets.items()
                        if by_items.get(sid, 0) != net or by_lines.get(sid, 0) != net)
    between_merchants = int(SettlementItem.select(fn.COALESCE(fn.SUM(SettlementItem.amount_fen), 0))
                            .join(SettlementStatement)
                            .where(in_period, SettlementItem.counterparty_merchant_id.is_null(False))
                            .scalar())
    statuses = dict(SettlementStatement.select(SettlementStatement.status,
                                               fn.COUNT(SettlementStatement.id))
                    .where(in_period).group_by(SettlementStatement.status).tuples())
    return {"period": name, "statements": len(nets),
            "by_status": {status: statuses.get(status, 0) for status in STATEMENT_STATUSES},
            "net_fen": sum(nets.values()),
            "lines": [{"line": line, "label": line_label(line), "amount_fen": amount,
                       "item_count": int(count)}
                      for line, (amount, count) in sorted(lines.items())],
            "balanced": between_merchants == 0 and not unbalanced,
            "between_merchants_fen": between_merchants,
            "unbalanced_statement_ids": unbalanced}


def _sums(query) -> dict[int, int]:
    return {statement_id: int(total) for statement_id, total in query.tuples()}


def statement_csv(statement_id: int, merchant_id: int | None,
                  after_id: int | None) -> tuple[str, int | None]:
    """A statement's items as CSV for a finance clerk's spreadsheet, a batch at a time: the
    text of the items after ``after_id`` (the header and the first items when None), and
    where the next batch starts (None: that was the last). Amounts are in fen and in yuan,
    signed from the merchant's side; times in Asia/Shanghai. STATEMENT_NOT_FOUND."""
    if after_id is None:
        get_statement(statement_id, merchant_id)
    query = SettlementItem.select().where(SettlementItem.statement == statement_id)
    if after_id is not None:
        query = query.where(SettlementItem.id > after_id)
    items = list(query.order_by(SettlementItem.id).limit(CSV_BATCH))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if after_id is None:
        writer.writerow(CSV_HEADER)
    for item in items:
        writer.writerow((item.id, line_label(item.line), item.source_type,
                         item.source_id, item.order_no or "",
                         f"商户 {item.counterparty_merchant_id}"
                         if item.counterparty_merchant_id else "平台",
                         item.amount_fen, yuan(item.amount_fen), item.basis_fen,
                         "" if item.rate_bp is None else item.rate_bp,
                         to_local_iso(item.occurred_at)))
    return out.getvalue(), (items[-1].id if len(items) == CSV_BATCH else None)


def line_label(line: str) -> str:
    """A statement line as a merchant reads it."""
    return LINE_NAMES.get(line, line)
