"""Reads of redemptions: a merchant's counter history, as its staff see it."""
from __future__ import annotations

import datetime as dt

from alliance.clock import to_local_iso
from alliance.commissions.models import CommissionEntry
from alliance.paging import newest_first
from alliance.redemptions.models import Redemption


def _commissions(redemption_ids: list[int]) -> dict[int, int]:
    if not redemption_ids:
        return {}
    rows = (CommissionEntry.select(CommissionEntry.source_id, CommissionEntry.amount_fen)
            .where(CommissionEntry.source_type == "redemption",
                   CommissionEntry.source_id.in_([str(i) for i in redemption_ids])).tuples())
    return {int(source_id): amount for source_id, amount in rows}


def redemption_view(redemption: Redemption, window: dt.timedelta, commission_fen: int = 0,
                    details: dict | None = None) -> dict:
    """A redemption with its attribution and until when a manager may undo it."""
    view = {"id": redemption.id, "kind": redemption.kind, "code": redemption.code,
            "status": redemption.status, "title": redemption.title,
            "merchant_id": redemption.merchant_id, "shop_id": redemption.shop_id,
            "staff_user_id": redemption.staff_user_id, "user_id": redemption.user_id,
            "ref_type": redemption.ref_type, "ref_id": redemption.ref_id,
            "attribution": {"issuer_merchant_id": redemption.issuer_merchant_id,
                            "distributor_merchant_id": redemption.distributor_merchant_id,
                            "commission_fen": commission_fen},
            "created_at": to_local_iso(redemption.created_at),
            "undo_until": to_local_iso(redemption.created_at + window),
            "undone_at": to_local_iso(redemption.undone_at),
            "undone_by": redemption.undone_by}
    if details is not None:
        view["details"] = details
    return view


def one_redemption(redemption: Redemption, window: dt.timedelta,
                   details: dict | None = None) -> dict:
    """``redemption_view`` with its commission looked up (only a code a partner distributed
    earns one: ``redeem`` records none without a distributor)."""
    commission = (_commissions([redemption.id]).get(redemption.id, 0)
                  if redemption.distributor_merchant_id is not None else 0)
    return redemption_view(redemption, window, commission, details)


def merchant_redemptions(merchant_id: int, window: dt.timedelta, cursor: str | None,
                         limit: int) -> dict:
    """A page of the merchant's redemptions, newest first."""
    query = Redemption.select().where(Redemption.merchant == merchant_id)
    rows, next_cursor = newest_first(query, Redemption.id, cursor, limit)
    commissions = _commissions([r.id for r in rows])
    return {"items": [redemption_view(r, window, commissions.get(r.id, 0)) for r in rows],
            "next_cursor": next_cursor}
