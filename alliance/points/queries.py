"""Reads of points: the balance and the ledger, newest first, cursor-paged."""
from __future__ import annotations

from alliance.clock import to_local_iso
from alliance.points.models import PointsAccount, PointsEntry
from alliance.paging import newest_first


def ledger_page(user_id: int, cursor: str | None, limit: int) -> dict:
    """The user's balance and one page of ledger entries (newest first)."""
    rows, next_cursor = newest_first(PointsEntry.select().where(PointsEntry.user_id == user_id),
                                     PointsEntry.id, cursor, limit)
    account = PointsAccount.get_or_none(PointsAccount.user_id == user_id)
    return {"balance": account.balance if account else 0,
            "lifetime_earned": account.lifetime_earned if account else 0,
            "items": [entry_view(e) for e in rows], "next_cursor": next_cursor}


def entry_view(entry: PointsEntry) -> dict:
    return {"id": entry.id, "kind": entry.kind, "amount": entry.amount,
            "balance_after": entry.balance_after, "merchant_id": entry.merchant_id,
            "ref_type": entry.ref_type, "ref_id": entry.ref_id, "memo": entry.memo,
            "expires_at": to_local_iso(entry.expires_at) if entry.kind == "earn" else None,
            "created_at": to_local_iso(entry.created_at)}
