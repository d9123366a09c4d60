"""Service codes: the ``service`` code kind of the counter's redemption registry.

A paid service order gets one single-use code, ``S`` + 11 Crockford base32 characters.
Staff redeem it with ``POST /api/v1/merchant/redemptions`` (the registry dispatches by the
prefix): one guarded UPDATE on the code and one on the order (service_issued -> completed),
so of two counters scanning it at once exactly one succeeds, and an order being refunded
cannot be redeemed. A manager's undo (within the registry's window) reverses both.
"""
from __future__ import annotations

import datetime as dt

from peewee import IntegrityError

from alliance.prepared import PreparedInsert
from alliance.randomcodes import random_code
from alliance.errors import Conflict
from alliance.orders.models import COMPLETED, SERVICE_ISSUED, Order, OrderLine, ServiceCode
from alliance.redemptions.models import Redemption
from alliance.redemptions.registry import (CODE_ALPHABET, CodeAlreadyRedeemed, CodeExpired,
                                           CodeNotFound, CodeNotValidHere, Redeemed,
                                           RedeemRequest, register_code_kind)

SERVICE_PREFIX = "S"
RANDOM_LENGTH = 11
SERVICE_CODE_VALIDITY = dt.timedelta(days=180)


def new_service_code() -> str:
    return SERVICE_PREFIX + random_code(CODE_ALPHABET, RANDOM_LENGTH)


_NEW_CODE = PreparedInsert(ServiceCode)  # its SQL built once: every paid service order writes one


def issue_service_code(order: Order, now: dt.datetime) -> ServiceCode:
    """The paid service order's code (in the payment's transaction)."""
    for _ in range(5):
        # None: the code drawn was taken (a refused INSERT undoes only itself): draw again.
        code = _NEW_CODE.create_or_none(order=order.id, code=new_service_code(),
                                        merchant_id=order.merchant_id, user_id=order.user_id,
                                        valid_until=now + SERVICE_CODE_VALIDITY, created_at=now)
        if code is not None:
            return code
    raise IntegrityError("no free service code after 5 draws")


class ServiceCodeKind:
    """Redeems the service codes of paid orders at their merchant's counter."""

    name = "service"
    prefix = SERVICE_PREFIX

    def redeem(self, request: RedeemRequest) -> Redeemed:
        """Mark the code redeemed and complete its order (caller's transaction)."""
        code = ServiceCode.get_or_none(ServiceCode.code == request.code)
        if code is None:
            raise CodeNotFound(details={"code": request.code})
        if code.merchant_id != request.merchant_id:
            raise CodeNotValidHere(details={"code": request.code})
        if code.status == "redeemed":
            raise CodeAlreadyRedeemed(details={"code": request.code})
        if code.status != "active":
            raise CodeNotValidHere("该订单已退款，核销码已失效", details={"code": request.code})
        if code.valid_until <= request.now:
            raise CodeExpired(details={"code": request.code})
        taken = (ServiceCode.update(status="redeemed", redeemed_at=request.now,
                                    redeemed_by=request.staff_user_id)
                 .where(ServiceCode.id == code.id, ServiceCode.status == "active").execute())
        if not taken:
            raise CodeAlreadyRedeemed(details={"code": request.code})
        completed = (Order.update(status=COMPLETED, completed_at=request.now, updated_at=request.now)
                     .where(Order.id == code.order_id, Order.status == SERVICE_ISSUED).execute())
        if not completed:  # being refunded: the caller's transaction undoes the code's update
            raise CodeNotValidHere("该订单正在退款，暂不能核销", details={"code": request.code})
        order = Order.get_by_id(code.order_id)
        lines = list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
        title = lines[0].name if len(lines) == 1 else f"{lines[0].name}等 {len(lines)} 项"
        return Redeemed(user_id=order.user_id, ref_type="order", ref_id=order.order_no,
                        title=title, issuer_merchant_id=order.merchant_id,
                        details={"order_no": order.order_no, "paid_fen": order.paid_fen,
                                 "items": [{"name": line.name, "quantity": line.quantity}
                                           for line in lines]})

    def undo(self, redemption: Redemption) -> None:
        """Make the code usable again and the order waiting for it (caller's transaction)."""
        order = Order.get_or_none(Order.order_no == redemption.ref_id)
        reopened = order is not None and (
            Order.update(status=SERVICE_ISSUED, completed_at=None)
            .where(Order.id == order.id, Order.status == COMPLETED).execute())
        restored = reopened and (
            ServiceCode.update(status="active", redeemed_at=None, redeemed_by=None)
            .where(ServiceCode.order == order.id, ServiceCode.status == "redeemed").execute())
        if not restored:
            raise Conflict("订单状态已变化，无法撤销", details={"order_no": redemption.ref_id})


register_code_kind(ServiceCodeKind())
