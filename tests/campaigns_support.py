"""Campaign tests: the order test merchant's staff and an operator, campaigns created and
approved through the API as they are in the mini-program and the console."""
from __future__ import annotations

import datetime as dt

from alliance.campaigns.models import CampaignGroup, CampaignItem, CampaignUse
from alliance.clock import to_local_iso
from alliance.db import connection, utcnow
from tests.orders_support import OrderTestCase


def at(minutes: float) -> str:
    """Now + ``minutes``, as the API takes times (Asia/Shanghai, with offset)."""
    return to_local_iso(utcnow() + dt.timedelta(minutes=minutes))


class CampaignTestCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.staff = self.owner_token()
        self.operator = self.operator_token("operator")

    def create(self, body: dict, token: str | None = None) -> dict:
        """The merchant's campaign, pending (running from a minute ago for an hour)."""
        body = {"name": "限时秒杀", "starts_at": at(-1), "ends_at": at(60), **body}
        response = self.api("POST", "/api/v1/merchant/campaigns", body, token=token or self.staff)
        assert response.status == 201, response.body
        return response.json

    def approve(self, campaign_id: int) -> dict:
        response = self.api("POST", f"/api/admin/v1/campaigns/{campaign_id}/review",
                            {"decision": "approve"}, token=self.operator)
        assert response.status == 200, response.body
        return response.json

    def platform_flash(self, **body) -> dict:
        spec = {"kind": "flash_sale", "name": "双十二秒杀", "starts_at": at(-1),
                "ends_at": at(60), "per_user_limit": 2, "budget_fen": 100000, **body}
        response = self.api("POST", "/api/admin/v1/campaigns", spec, token=self.operator)
        assert response.status == 201, response.body
        assert (response.json["status"], response.json["funded_by"]) == ("approved", "platform")
        return response.json

    def join(self, campaign_id: int, token: str, item, price: int, stock: int = 5) -> dict:
        response = self.api("POST", f"/api/v1/merchant/campaigns/{campaign_id}/join",
                            {"items": [{"item_id": item.id, "campaign_price_fen": price,
                                        "stock": stock}]}, token=token)
        assert response.status == 201, response.body
        return response.json

    def flash(self, item=None, price: int = 1999, stock: int | None = None,
              per_user_limit: int | None = None, **body) -> int:
        """An approved flash sale of the merchant on ``item``; its id."""
        entry = {"item_id": (item or self.goods).id, "campaign_price_fen": price}
        if stock is not None:
            entry["stock"] = stock
        spec = {"kind": "flash_sale", "items": [entry], **body}
        if per_user_limit is not None:
            spec["per_user_limit"] = per_user_limit
        campaign = self.create(spec)
        self.approve(campaign["id"])
        return campaign["id"]

    def reduction(self, tiers: list[tuple[int, int]], **body) -> int:
        """An approved full reduction of the merchant; its id."""
        campaign = self.create({"kind": "full_reduction", "name": "满减",
                                "tiers": [{"threshold_fen": t, "discount_fen": d}
                                          for t, d in tiers], **body})
        self.approve(campaign["id"])
        return campaign["id"]

    def group_buy(self, item=None, price: int = 1999, size: int = 3, hours: int = 24,
                  stock: int | None = None, per_user_limit: int | None = None, **body) -> int:
        """An approved group buy of the merchant on ``item`` (groups of ``size``); its id."""
        entry = {"item_id": (item or self.goods).id, "campaign_price_fen": price}
        if stock is not None:
            entry["stock"] = stock
        spec = {"kind": "group_buy", "name": "三人团", "items": [entry], "group_size": size,
                "group_hours": hours, **body}
        if per_user_limit is not None:
            spec["per_user_limit"] = per_user_limit
        campaign = self.create(spec)
        self.approve(campaign["id"])
        return campaign["id"]

    def start_group(self, token: str, campaign_id: int, item=None, **extra) -> dict:
        """``token``'s order starting a group of the group buy; the order (with its group)."""
        order = self.order(token, item, group_buy={"campaign_id": campaign_id}, **extra)
        return self.get_order(token, order["order_no"])

    def join_group(self, token: str, group_id: int, item=None, **extra):
        """``token``'s order joining the group: the response."""
        return self.api("POST", "/api/v1/orders",
                        {"items": [{"item_id": (item or self.goods).id, "quantity": 1}],
                         "group_buy": {"group_id": group_id}, **extra}, token=token)

    def pay(self, token: str, order_no: str) -> dict:
        """The buyer pays the order (notified as WeChat Pay signs it); the order after."""
        self.provider_pays(self.start_payment(token, order_no))
        return self.get_order(token, order_no)

    def group(self, group_id: int) -> CampaignGroup:
        with connection():
            return CampaignGroup.get_by_id(group_id)

    def quote(self, token: str, lines: list[tuple[object, int]], **extra) -> dict:
        response = self.api("POST", "/api/v1/orders/quote",
                            {"items": [{"item_id": item.id, "quantity": q} for item, q in lines],
                             **extra}, token=token)
        assert response.status == 200, response.body
        return response.json

    def campaign_item(self, campaign_id: int) -> CampaignItem:
        with connection():
            return CampaignItem.get(CampaignItem.campaign == campaign_id)

    def uses(self, campaign_id: int) -> list[CampaignUse]:
        with connection():
            return list(CampaignUse.select().where(CampaignUse.campaign == campaign_id))
