"""Recording and cancelling commissions owed between merchants (inside the caller's
transaction: the business event and its commission commit together)."""
from __future__ import annotations

import datetime as dt

from alliance.commissions.models import CommissionEntry
from alliance.db import utcnow
from alliance.errors import Conflict


class CommissionAlreadySettled(Conflict):
    code = "COMMISSION_ALREADY_SETTLED"
    message = "相关佣金已结算，不能撤销"


def record_commission(*, payer_merchant_id: int, payee_merchant_id: int, amount_fen: int,
                      source_type: str, source_id: str, reason: str,
                      now: dt.datetime | None = None) -> CommissionEntry:
    """A pending entry: ``payer`` owes ``payee`` ``amount_fen`` for the event (unique)."""
    return CommissionEntry.create(payer_merchant_id=payer_merchant_id,
                                  payee_merchant_id=payee_merchant_id, amount_fen=amount_fen,
                                  source_type=source_type, source_id=source_id, reason=reason,
                                  created_at=now or utcnow())


def cancel_commission(source_type: str, source_id: str, now: dt.datetime | None = None) -> bool:
    """Cancel the pending entry of an event that was undone; False when it had none.
    Raises COMMISSION_ALREADY_SETTLED when a statement already counted it."""
    entry = CommissionEntry.get_or_none(CommissionEntry.source_type == source_type,
                                        CommissionEntry.source_id == source_id)
    if entry is None:
        return False
    cancelled = (CommissionEntry.update(status="cancelled", cancelled_at=now or utcnow())
                 .where(CommissionEntry.id == entry.id, CommissionEntry.status == "pending")
                 .execute())
    if cancelled != 1:
        raise CommissionAlreadySettled(details={"commission_id": entry.id})
    return True


def cancel_pending(source_type: str, source_ids: list[str],
                   now: dt.datetime | None = None) -> int:
    """Cancel the pending entries of events undone as a whole (an order refunded in full
    gives its coupons back); the number cancelled. One a statement already counted stays."""
    if not source_ids:
        return 0
    return (CommissionEntry.update(status="cancelled", cancelled_at=now or utcnow())
            .where(CommissionEntry.source_type == source_type,
                   CommissionEntry.source_id.in_(source_ids),
                   CommissionEntry.status == "pending").execute())
