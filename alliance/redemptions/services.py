"""Redeeming a code at a counter, and undoing a redemption.

``redeem`` normalizes the code, finds its kind by prefix and, in one transaction, lets the
kind mark it used, records the redemption (shop, staff, time, attribution), makes the
issuer owe the distributing partner its commission, counts the member's visit and queues
the member's notification. ``undo_redemption`` reverses all of it atomically.
"""
from __future__ import annotations

import datetime as dt

from alliance.commissions.services import cancel_commission, record_commission
from alliance.db import pipelined_transaction, transaction, utcnow
from alliance.errors import Conflict, NotFound
from alliance.members.services import counter_shop, record_visit, revert_visit
from alliance.ports import Notifier
from alliance.prepared import PreparedInsert
from alliance.redemptions.models import Redemption
from alliance.redemptions.registry import (Redeemed, RedeemRequest, kind_for, kind_named,
                                           normalize_code)

DEFAULT_UNDO_WINDOW = dt.timedelta(minutes=30)


class RedemptionNotFound(NotFound):
    code = "REDEMPTION_NOT_FOUND"
    message = "核销记录不存在"


class RedemptionAlreadyUndone(Conflict):
    code = "REDEMPTION_ALREADY_UNDONE"
    message = "该核销已撤销"


class UndoWindowPassed(Conflict):
    code = "REDEMPTION_UNDO_EXPIRED"
    message = "已超过可撤销时间"


def redeem(raw_code: str, *, merchant_id: int, staff_user_id: int, notifier: Notifier,
           shop_id: int | None = None,
           now: dt.datetime | None = None) -> tuple[Redemption, Redeemed]:
    """Redeem a coupon or service code at ``merchant_id``'s counter; the redemption and
    what the code's kind reported. CODE_ALREADY_REDEEMED, CODE_EXPIRED, CODE_NOT_VALID_HERE,
    CODE_NOT_FOUND, CODE_IN_USE, CODE_NOT_YET_VALID otherwise (nothing changed)."""
    code = normalize_code(raw_code)
    kind = kind_for(code)
    now = now or utcnow()

    def work() -> tuple[Redemption, Redeemed]:
        shop = counter_shop(merchant_id, shop_id)
        done = kind.redeem(RedeemRequest(code, merchant_id, shop, staff_user_id, now))
        redemption = _NEW_REDEMPTION.create(
            kind=kind.name, code=code, merchant=merchant_id, shop_id=shop,
            staff_user_id=staff_user_id, user_id=done.user_id, ref_type=done.ref_type,
            ref_id=done.ref_id, title=done.title[:128], issuer_merchant_id=done.issuer_merchant_id,
            distributor_merchant_id=done.distributor_merchant_id, created_at=now)
        if (done.distributor_merchant_id and done.commission_fen > 0
                and done.issuer_merchant_id not in (None, done.distributor_merchant_id)):
            record_commission(payer_merchant_id=done.issuer_merchant_id,
                              payee_merchant_id=done.distributor_merchant_id,
                              amount_fen=done.commission_fen, source_type="redemption",
                              source_id=str(redemption.id), reason=f"{kind.name}_distribution",
                              now=now)
        if done.user_id is not None:
            record_visit(done.user_id, merchant_id, now=now)
            notifier.notify(f"{kind.name}.redeemed", user_id=done.user_id,
                            data={"redemption_id": redemption.id, "title": done.title,
                                  "merchant_id": merchant_id},
                            dedupe_key=f"redemption:{redemption.id}")
        return redemption, done

    # On MySQL the code's guarded UPDATE and the redemption's INSERT go with the next read
    # (the membership's), and the visit and the member's notification before the COMMIT;
    # a code taken meanwhile runs it again plainly, where it is refused as before.
    return pipelined_transaction(work)


# Run for every code redeemed: its SQL is built once (alliance.prepared).
_NEW_REDEMPTION = PreparedInsert(Redemption)


def undo_redemption(redemption_id: int, *, merchant_id: int, staff_user_id: int,
                    window: dt.timedelta = DEFAULT_UNDO_WINDOW,
                    now: dt.datetime | None = None) -> Redemption:
    """Undo a redemption of ``merchant_id`` made less than ``window`` ago: the code is
    usable again, its commission cancelled and the visit taken back, all or nothing."""
    now = now or utcnow()
    with transaction():
        redemption = Redemption.get_or_none(Redemption.id == redemption_id,
                                            Redemption.merchant == merchant_id)
        if redemption is None:
            raise RedemptionNotFound(details={"redemption_id": redemption_id})
        if redemption.status != "done":
            raise RedemptionAlreadyUndone(details={"redemption_id": redemption_id})
        if redemption.created_at + window < now:
            raise UndoWindowPassed(details={"redemption_id": redemption_id,
                                            "window_minutes": int(window.total_seconds() // 60)})
        undone = (Redemption.update(status="undone", undone_at=now, undone_by=staff_user_id)
                  .where(Redemption.id == redemption.id, Redemption.status == "done").execute())
        if undone != 1:
            raise RedemptionAlreadyUndone(details={"redemption_id": redemption_id})
        kind_named(redemption.kind).undo(redemption)
        cancel_commission("redemption", str(redemption.id), now)
        if redemption.user_id is not None:
            revert_visit(redemption.user_id, merchant_id)
        return Redemption.get_by_id(redemption.id)


def move_user_redemptions(source_id: int, target_id: int) -> int:
    """Account merge: redemptions of the absorbed account's codes count as the survivor's
    (who served them, ``staff_user_id``, stays a record of that account)."""
    return Redemption.update(user_id=target_id).where(Redemption.user_id == source_id).execute()
