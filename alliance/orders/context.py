"""What the order services need from outside, chosen once where the application is built."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from alliance.ports import Notifier, PaymentGateway

PAYMENT_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class OrderContext:
    """The payment gateways by channel, the notifier, the mini-program's appid (whose
    openid pays with WeChat Pay), how long an order waits to be paid (its ``expires_at``;
    ``close_unpaid_orders`` closes it after that), and the alliance points a referrer earns
    for an invitee's first paid order (``REFERRAL_REWARD_POINTS``)."""

    gateways: Mapping[str, PaymentGateway]
    notifier: Notifier
    miniapp_appid: str = ""
    payment_window: dt.timedelta = PAYMENT_WINDOW
    referral_reward_points: int = 0
