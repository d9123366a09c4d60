"""Operators' settlement actions: recording a statement's payout, and a merchant's own
commission rate."""
from __future__ import annotations

import datetime as dt

from alliance.accounts.operators import record_audit
from alliance.db import transaction, utcnow
from alliance.errors import Conflict
from alliance.merchants.models import Merchant
from alliance.merchants.queries import get_merchant
from alliance.settlement.models import ISSUED, PAID, SettlementStatement
from alliance.settlement.queries import get_statement


class StatementAlreadyPaid(Conflict):
    code = "STATEMENT_ALREADY_PAID"
    message = "该对账单已记录付款，不能以其他凭证再次付款"


def record_payout(operator_id: int, statement_id: int, reference: str,
                  now: dt.datetime | None = None) -> SettlementStatement:
    """The statement's payout was made under ``reference``: issued -> paid (guarded).
    The same call again changes nothing; another reference for a paid statement is
    STATEMENT_ALREADY_PAID; STATEMENT_NOT_FOUND."""
    now = now or utcnow()
    with transaction():
        statement = get_statement(statement_id)
        moved = (SettlementStatement.update(status=PAID, payout_reference=reference,
                                            paid_at=now, paid_by=operator_id)
                 .where(SettlementStatement.id == statement_id,
                        SettlementStatement.status == ISSUED).execute())
        if moved:
            record_audit(operator_id, "statement.payout", "settlement_statement", statement_id,
                         details={"reference": reference, "net_fen": statement.net_fen})
        statement = get_statement(statement_id)
        if statement.payout_reference != reference:
            raise StatementAlreadyPaid(details={"statement_id": statement_id,
                                                "payout_reference": statement.payout_reference})
        return statement


def set_commission_rate(operator_id: int, merchant_id: int, bp: int | None) -> Merchant:
    """The merchant's own platform commission rate in basis points (None: the platform's);
    it applies to the orders its next statements count. MERCHANT_NOT_FOUND."""
    with transaction():
        merchant = get_merchant(merchant_id)
        (Merchant.update(commission_bp=bp).where(Merchant.id == merchant_id).execute())
        record_audit(operator_id, "merchant.commission_rate", "merchant", merchant_id,
                     details={"from": merchant.commission_bp, "to": bp})
        merchant.commission_bp = bp
        return merchant
