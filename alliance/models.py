"""Every table of the domain, in one list: migrations are generated and checked against it."""
from __future__ import annotations

from alliance.accounts.models import RefreshFamily, RefreshToken, User, WechatIdentity
from alliance.infra.models import IdempotencyRecord, KeyValue, RateCounter
from alliance.payments.models import PaymentNotification

ALL_MODELS = [
    User, WechatIdentity, RefreshFamily, RefreshToken,
    IdempotencyRecord, RateCounter, KeyValue,
    PaymentNotification,
]
