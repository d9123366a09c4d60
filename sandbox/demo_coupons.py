"""Demo coupons: a claimable template for each demo merchant, the cinema's coupon also
handed out at the noodle shop's counter (a cross-merchant coupon, 3 yuan commission per
redemption, agreed in a cooperation the cinema proposed and the noodle shop accepted), a
points-exchange coupon, and level rules for the noodle shop."""
from __future__ import annotations

from alliance.cooperation import services as cooperation
from alliance.coupons.templates import create_template
from alliance.members.services import set_level_rules
from alliance.notifications.outbox import OutboxNotifier
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
COOPERATION_TEXT = "面馆收银台代发影城观影券，顾客凭券到影城观影，每核销一张付面馆 3 元"

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
    notifier = OutboxNotifier()
    proposal = cooperation.propose(
        notifier, people[issuer].id, people[issuer].owner_id,
        {"partner_merchant_id": people[distributor].id, "kind": "coupon_distribution",
         "template_ids": [created[issuer].id], "commission_fen": commission,
         "description": COOPERATION_TEXT, "message": "邀请贵店代发我们的观影券"})
    cooperation.accept(notifier, proposal.id, people[distributor].id,
                       people[distributor].owner_id, {"message": "成交"})
    set_level_rules(people["merchant-1"].id, NOODLE_LEVELS)
