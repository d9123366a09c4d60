"""Demo coupons: a claimable template for each demo merchant, the cinema's coupon also
handed out at the noodle shop's counter (a cross-merchant coupon, 3 yuan commission per
redemption), a points-exchange coupon, and level rules for the noodle shop."""
from __future__ import annotations

from alliance.coupons.templates import add_distribution, create_template
from alliance.members.services import set_level_rules
from config.settings import Settings

DEMO_TEMPLATES = [
    ("merchant-1", {"name": "满50减10", "description": "堂食外带均可使用", "kind": "fixed",
                    "threshold_fen": 5000, "discount_fen": 1000, "valid_days": 30,
                    "total_stock": 1000, "per_user_limit": 2, "channels": ["own"]}),
    ("merchant-2", {"name": "观影立减15元", "description": "2D/3D 电影票通用", "kind": "fixed",
                    "threshold_fen": 3500, "discount_fen": 1500, "valid_days": 30,
                    "total_stock": 500, "channels": ["own", "partner"]}),
    ("merchant-3", {"name": "精剪造型8折", "description": "最高减 30 元", "kind": "percent",
                    "percent_off": 20, "max_discount_fen": 3000, "valid_days": 60,
                    "total_stock": 300, "channels": ["own"]}),
    ("merchant-1", {"name": "积分兑5元无门槛券", "kind": "fixed", "discount_fen": 500,
                    "valid_days": 30, "total_stock": 200, "channels": ["points"],
                    "points_cost": 500}),
]
CROSS_MERCHANT = ("merchant-2", "merchant-1", 300)  # issuer, distributor, commission_fen

NOODLE_LEVELS = [
    {"name": "银卡", "min_spent_fen": 50_000, "discount_percent": 5, "points_multiplier_pct": 150},
    {"name": "金卡", "min_spent_fen": 200_000, "discount_percent": 10, "points_multiplier_pct": 200},
]


def coupons_step(settings: Settings, people: dict) -> None:
    """Create the demo coupon templates, the cross-merchant distribution and level rules."""
    created = {}
    for merchant_key, spec in DEMO_TEMPLATES:
        merchant = people[merchant_key]
        created.setdefault(merchant_key, create_template(
            spec, merchant_id=merchant.id, actor_kind="user", actor_id=merchant.owner_id))
    issuer, distributor, commission = CROSS_MERCHANT
    add_distribution(created[issuer].id, people[issuer].id, people[distributor].id, commission,
                     actor_id=people[issuer].owner_id)
    set_level_rules(people["merchant-1"].id, NOODLE_LEVELS)
