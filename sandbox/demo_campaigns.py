"""Demo campaigns, running from the moment the demo is loaded for 30 days: the noodle shop's
full reduction (满 60 减 8), the cinema's flash sale on its ticket, and the salon's
three-person group buy. Each is created as the merchant's staff create it and approved as an
operator would (the demo has no console account: ``reviewed_by`` stays empty)."""
from __future__ import annotations

import datetime as dt

from alliance.campaigns.models import APPROVED, PENDING, Campaign
from alliance.campaigns.services import campaign_changed, create_merchant_campaign
from alliance.catalog.models import CatalogItem
from alliance.clock import to_local_iso
from alliance.db import utcnow
from config.settings import Settings

DAYS = 30


def _item(merchant, name: str) -> CatalogItem:
    return CatalogItem.get(CatalogItem.merchant == merchant.id, CatalogItem.name == name)


def demo_campaigns(people: dict) -> list[tuple[object, dict]]:
    """(merchant, what its staff send) of each demo campaign."""
    noodles, cinema, salon = (people[f"merchant-{i}"] for i in (1, 2, 3))
    return [
        (noodles, {"kind": "full_reduction", "name": "满60减8",
                   "description": "堂食外带均可，与优惠券同享",
                   "tiers": [{"threshold_fen": 6000, "discount_fen": 800}]}),
        (cinema, {"kind": "flash_sale", "name": "周末观影秒杀", "per_user_limit": 2,
                  "items": [{"item_id": _item(cinema, "2D 电影票（通兑）").id,
                             "campaign_price_fen": 2990, "stock": 200}]}),
        (salon, {"kind": "group_buy", "name": "精剪三人团", "group_size": 3, "group_hours": 24,
                 "items": [{"item_id": _item(salon, "精剪造型").id,
                            "campaign_price_fen": 6800, "stock": 100}]}),
    ]


def campaigns_step(settings: Settings, people: dict) -> None:
    now = utcnow()
    window = {"starts_at": to_local_iso(now),
              "ends_at": to_local_iso(now + dt.timedelta(days=DAYS))}
    for merchant, spec in demo_campaigns(people):
        campaign = create_merchant_campaign({**spec, **window}, merchant.id, merchant.owner_id,
                                            now=now)
        (Campaign.update(status=APPROVED, reviewed_at=now, updated_at=now)
         .where(Campaign.id == campaign.id, Campaign.status == PENDING).execute())
        campaign_changed(campaign)
