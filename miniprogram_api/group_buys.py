"""Group buys (团购) in the mini-program: a group's page to share, the open groups of a
campaign's item to join, and the consumer's own groups. A group is started or joined by
placing an order with ``group_buy`` (``POST /api/v1/orders``)."""
from __future__ import annotations

from alliance.campaigns import group_queries
from server import validation as v
from server.base import BaseHandler, authenticated

ID_MAX = 2**31 - 1


class GroupHandler(BaseHandler):
    async def get(self, group_id: str):
        self.write_json(await self.run_sync(group_queries.public_group, int(group_id)))


class CampaignGroupsHandler(BaseHandler):
    async def get(self, campaign_id: str):
        raw = self.query("item_id")
        item_id = None if raw in (None, "") else v.query_int(raw, "item_id", default=0,
                                                             minimum=1, maximum=ID_MAX)
        self.write_json(await self.run_sync(group_queries.open_groups, int(campaign_id),
                                            item_id, self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


class MyGroupsHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        self.write_json(await self.run_sync(group_queries.my_groups, self.principal.id,
                                            self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


def routes() -> list:
    return [(r"/api/v1/group-buys/([0-9]{1,10})", GroupHandler),
            (r"/api/v1/campaigns/([0-9]{1,10})/groups", CampaignGroupsHandler),
            (r"/api/v1/me/group-buys", MyGroupsHandler)]


def _schemas() -> dict:
    from server.openapi import BOOL, FEN, INT, STR, TIME, obj

    nullable_time = {**TIME, "nullable": True}
    group = {"id": INT, "campaign_id": INT, "item_id": INT, "merchant_id": INT,
             "item_name": STR, "price_fen": FEN,
             "group_price_fen": {**FEN, "description": "what each member pays per unit"},
             "group_size": {**INT, "description": "the people the group needs"},
             "joined": {**INT, "description": "seats taken (paid or waiting for payment)"},
             "paid": INT, "seats_left": INT,
             "status": {"type": "string", "enum": ["open", "succeeded", "failed"]},
             "joinable": BOOL, "deadline": {**TIME, "description": "it fails unless it "
                                                                  "filled before"},
             "created_at": TIME, "succeeded_at": nullable_time, "failed_at": nullable_time}
    member = obj({"nickname": {**STR, "description": "masked: first character and stars"},
                  "avatar_url": STR, "leader": BOOL, "paid": BOOL})
    return {
        "Group": obj(group, ["id", "group_size", "joined", "status", "deadline"]),
        "GroupDetail": obj({**group, "campaign": obj({"id": INT, "name": STR, "kind": STR,
                                                      "ends_at": TIME}),
                            "members": {"type": "array", "items": member}},
                           ["id", "group_size", "joined", "status", "deadline"]),
        "MyGroup": obj({**group, "order_no": STR, "leader": BOOL,
                        "seat_status": {"type": "string", "enum": ["held", "paid"]}}),
        "GroupEffect": obj({"started": INT, "open": INT, "succeeded": INT, "failed": INT,
                            "refunds": {**INT, "description": "refunds its failures started"},
                            "refunded_fen": {**FEN, "description": "given back by those "
                                                                   "that succeeded"}}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, op, path_param, query_param, ref

    tags = ["group buys"]
    return {
        "/api/v1/group-buys/{id}": {"get": op(
            "A group of a group buy, to share: campaign, item, group price, size, joined, "
            "seats left, deadline, status, members (masked nicknames and avatars)",
            tags=tags, auth=False, ok=ref("GroupDetail"), errors=(404,),
            params=[path_param("id", INT)],
            description="Join it by placing an order with group_buy.group_id.")},
        "/api/v1/campaigns/{id}/groups": {"get": op(
            "The open groups of a running group buy (of one item) that may be joined now, "
            "newest first", tags=tags, auth=False, ok=list_of(ref("Group")),
            errors=(400, 404), params=[path_param("id", INT), query_param("item_id", INT),
                                       *PAGING])},
        "/api/v1/me/group-buys": {"get": op(
            "My groups (seats held or paid), newest first, with my order", tags=tags,
            ok=list_of(ref("MyGroup")), errors=(400,), params=PAGING)},
    }


OPENAPI = _openapi()
