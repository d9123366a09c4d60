"""Commissions between partners (``alliance.commissions``): each entry is two events, the
payee's ``+amount`` and the payer's ``-amount`` on their ``partner_commission`` lines, each
naming the other as its counterparty. The statement that counts either side settles the
entry in its transaction; a cancelled entry is never counted."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from peewee import chunked

from alliance.commissions.models import CommissionEntry
from alliance.settlement.events import EventsWithdrawn, SettlementEvent
from alliance.settlement.reading import in_pages

LINE = "partner_commission"
PENDING, SETTLED = "pending", "settled"
BATCH = 500


def entries(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Both sides of every entry recorded in ``[since, until)`` and not cancelled."""
    query = (CommissionEntry.select(CommissionEntry.id, CommissionEntry.payer_merchant_id,
                                    CommissionEntry.payee_merchant_id, CommissionEntry.amount_fen,
                                    CommissionEntry.source_type, CommissionEntry.source_id,
                                    CommissionEntry.created_at)
             .where(CommissionEntry.created_at >= since, CommissionEntry.created_at < until,
                    CommissionEntry.status.in_([PENDING, SETTLED])))
    for entry in in_pages(query, (CommissionEntry.created_at, CommissionEntry.id)):
        # A coupon used in an online order owes under "<coupon id>:<order_no>".
        order_no = entry.source_id.partition(":")[2] if entry.source_type == "coupon_use" else None
        yield SettlementEvent("commission", str(entry.id), entry.payee_merchant_id, LINE,
                              entry.amount_fen, entry.created_at,
                              counterparty_merchant_id=entry.payer_merchant_id,
                              order_no=order_no or None)
        yield SettlementEvent("commission", str(entry.id), entry.payer_merchant_id, LINE,
                              -entry.amount_fen, entry.created_at,
                              counterparty_merchant_id=entry.payee_merchant_id,
                              order_no=order_no or None)


def settle(events: list[SettlementEvent], now: dt.datetime) -> None:
    """In the statement's transaction: the counted entries still pending become settled
    (guarded, so that an undo racing the statement either cancels first, and the entry is
    withdrawn from it, or finds it settled and is refused). The update comes before any
    read in the transaction, so that on MySQL the read below sees what the update waited
    for."""
    ids = sorted({int(event.source_id) for event in events})
    for chunk in chunked(ids, BATCH):
        (CommissionEntry.update(status=SETTLED, settled_at=now)
         .where(CommissionEntry.id.in_(chunk), CommissionEntry.status == PENDING).execute())
    cancelled: set[str] = set()
    for chunk in chunked(ids, BATCH):
        cancelled.update(str(entry_id) for entry_id, in
                         CommissionEntry.select(CommissionEntry.id)
                         .where(CommissionEntry.id.in_(chunk),
                                CommissionEntry.status != SETTLED).tuples())
    if cancelled:
        raise EventsWithdrawn({event.key for event in events if event.source_id in cancelled})
