"""Campaign tests: the order test merchant's staff and an operator, campaigns created and
approved through the API as they are in the mini-program and the console."""
from __future__ import annotations

import datetime as dt
import http.client
import json

from alliance.campaigns.models import CampaignItem, CampaignUse
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

    def post_from_thread(self, path: str, body: dict, token: str) -> tuple[int, dict]:
        """A request sent from a plain thread (for the concurrency tests): status, JSON."""
        connection_ = http.client.HTTPConnection("127.0.0.1", self.get_http_port(), timeout=30)
        try:
            connection_.request("POST", path, json.dumps(body),
                                {"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json"})
            response = connection_.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection_.close()
