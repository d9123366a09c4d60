"""Hooking orders into the payment notices: one handler per kind, bound to the context."""
from __future__ import annotations

import functools

import alliance.orders.service_codes  # noqa: F401  (registers the service code kind)
from alliance.orders.context import OrderContext
from alliance.orders.payments import apply_payment_notice, read_payment
from alliance.orders.refunds import apply_refund_notice
from alliance.payments import notices


def install(octx: OrderContext) -> None:
    """Make the provider notifications pay and refund orders (server/app.py calls it once,
    with the gateways and notifier it chose)."""
    notices.register_payment_handler(functools.partial(apply_payment_notice, octx),
                                     prepare=read_payment)
    notices.register_refund_handler(functools.partial(apply_refund_notice, octx))
