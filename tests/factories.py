"""Factories: rows with sensible defaults for tests (each call makes a new one)."""
from __future__ import annotations

import itertools

from alliance.accounts.models import User
from alliance.catalog.models import CatalogItem
from alliance.merchants.geo import haversine_m
from alliance.merchants.identifiers import credit_code_check_char
from alliance.merchants.models import Merchant, Shop, StaffMembership
from alliance.merchants.shops import sync_listing

_seq = itertools.count(1)
DEMO_POINT = (31.2304, 121.4737)


def make_user(nickname: str = "") -> User:
    return User.create(nickname=nickname or f"user-{next(_seq)}")


def make_credit_code() -> str:
    first17 = f"91310101MA{next(_seq):07d}"
    return first17 + credit_code_check_char(first17)


def make_merchant(*, status: str = "approved", industry: str = "catering", name: str = "",
                  owner: User | None = None, popularity: int = 0) -> Merchant:
    owner = owner or make_user()
    merchant = Merchant.create(
        name=name or f"商户{next(_seq)}", company_name="测试公司", credit_code=make_credit_code(),
        industry=industry, legal_rep_name="张三", legal_rep_id_cipher="v1:x",
        legal_rep_id_hash="0" * 64, legal_rep_id_masked="11**************2X",
        licence_upload="u-licence", id_front_upload="u-front", id_back_upload="u-back",
        contact_phone="13800000000", owner=owner, status=status, popularity=popularity)
    StaffMembership.create(merchant=merchant, user=owner, role="merchant_owner")
    return merchant


def make_shop(merchant: Merchant, lat: float = DEMO_POINT[0], lng: float = DEMO_POINT[1],
              status: str = "open", name: str = "") -> Shop:
    shop = Shop.create(merchant=merchant, name=name or f"门店{next(_seq)}", address="上海",
                       lat=lat, lng=lng, status=status)
    sync_listing(merchant.id)
    return Shop.get_by_id(shop.id)


def add_staff(merchant: Merchant, role: str, user: User | None = None) -> User:
    user = user or make_user()
    StaffMembership.create(merchant=merchant, user=user, role=role)
    return user


def make_item(merchant: Merchant, *, kind: str = "goods", price_fen: int = 1000,
              stock: int = 10, status: str = "on_shelf", category: str = "",
              sales_count: int = 0, name: str = "") -> CatalogItem:
    return CatalogItem.create(merchant=merchant, kind=kind, name=name or f"商品{next(_seq)}",
                              price_fen=price_fen, stock=stock, status=status,
                              category=category, sales_count=sales_count)


def make_template(merchant: Merchant | None, **overrides):
    """A coupon template (a platform one when ``merchant`` is None): 满100减20 by default,
    valid 30 days after the claim, own channel (platform channel for platform ones)."""
    from alliance.coupons.templates import create_template

    spec = {"name": f"券{next(_seq)}", "kind": "fixed", "threshold_fen": 10000,
            "discount_fen": 2000, "valid_days": 30, "total_stock": 100,
            "channels": ["own"] if merchant else ["platform"], **overrides}
    if merchant is None:
        spec.setdefault("scope", "alliance")
    return create_template(spec, merchant_id=merchant.id if merchant else None,
                           actor_kind="user" if merchant else "operator",
                           actor_id=merchant.owner_id if merchant else 1)


def nearest_by_hand(lat: float, lng: float) -> list[tuple[int, int]]:
    """What the nearest-first list must be: every merchant with a listed shop within 100 km,
    by the exact distance to its nearest one, then by id."""
    nearest: dict[int, float] = {}
    for merchant_id, shop_lat, shop_lng in (Shop.select(Shop.merchant, Shop.lat, Shop.lng)
                                            .where(Shop.listed == True).tuples()):  # noqa: E712
        distance = haversine_m(lat, lng, shop_lat, shop_lng)
        if distance <= 100_000:
            nearest[merchant_id] = min(distance, nearest.get(merchant_id, distance))
    return [(m, int(round(d))) for d, m in sorted((d, m) for m, d in nearest.items())]
