"""Every table of the domain, in one list: migrations are generated and checked against it."""
from __future__ import annotations

from alliance.accounts.models import (AccountMerge, LoginCode, RefreshFamily, RefreshToken,
                                      User, WechatIdentity)
from alliance.infra.models import IdempotencyRecord, KeyValue, RateCounter

ALL_MODELS = [
    User, WechatIdentity, RefreshFamily, RefreshToken, LoginCode, AccountMerge,
    IdempotencyRecord, RateCounter, KeyValue,
]
