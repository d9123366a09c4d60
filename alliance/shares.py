"""Share cards: what a consumer shares with friends of a campaign, a group buy's group, an
item or a merchant (PRODUCT consumer end 6: "share them with friends").

A card is the title and image WeChat shows, the mini-program page to open with the sharer's
share scene in its query (``onShareAppMessage``), the scene itself, a link for outside WeChat
and a code image for posters (a mini-program code of the page, or a QR code of the link). A
friend who opens it reports the scene (``POST /api/v1/me/attribution``): they are attributed
to the sharer as by the sharer's own referral code (first touch within the window), the
attribution keeps what was shared, and the answer names it, so the mini-program opens that
page. Only what a consumer can see now is shared: an approved campaign not yet over, a group
still open, an item on the shelf, an approved merchant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from alliance.campaigns import group_queries
from alliance.campaigns import queries as campaign_queries
from alliance.catalog.queries import get_item_for_sale, item_view
from alliance.errors import Conflict
from alliance.merchants.queries import public_detail
from alliance.money import yuan_words
from alliance.ports import QrCodeProvider
from alliance.referrals import scenes
from alliance.referrals.qrcodes import QrResult, check_format, code_image
from alliance.referrals.services import USER, code_for

PAGES = {"campaign": "pages/campaign/detail", "group_buy": "pages/group/detail",
         "item": "pages/item/detail", "merchant": "pages/merchant/detail"}
KINDS = tuple(PAGES)


class ShareClosed(Conflict):
    code = "SHARE_TARGET_CLOSED"
    message = "已结束，无法分享"


@dataclass(frozen=True)
class Shown:
    title: str
    image_url: str | None = None


def _campaign(campaign_id: int) -> Shown:
    view = campaign_queries.public_campaign(campaign_id)  # CAMPAIGN_NOT_FOUND unless public
    if view["state"] not in ("upcoming", "running"):
        raise ShareClosed("活动已结束，无法分享",
                          details={"kind": "campaign", "id": campaign_id, "state": view["state"]})
    return Shown(view["name"])


def _group(group_id: int) -> Shown:
    view = group_queries.public_group(group_id)  # GROUP_NOT_FOUND
    if not view["joinable"]:
        raise ShareClosed("该团已结束，无法分享",
                          details={"kind": "group_buy", "id": group_id, "status": view["status"]})
    price = view["group_price_fen"]
    deal = f"{yuan_words(price)} 元拼" if price is not None else "一起拼"
    return Shown(f"还差 {view['seats_left']} 人成团！{deal}「{view['item_name']}」")


def _item(item_id: int) -> Shown:
    view = item_view(get_item_for_sale(item_id))  # ITEM_NOT_FOUND unless on the shelf
    return Shown(f"{view['name']} ¥{yuan_words(view['price_fen'])}",
                 view["image_urls"][0] if view["image_urls"] else None)


def _merchant(merchant_id: int) -> Shown:
    detail = public_detail(merchant_id)  # MERCHANT_NOT_FOUND unless approved
    return Shown(detail["name"], next((shop["logo_url"] for shop in detail["shops"]
                                       if shop["logo_url"]), None))


_SHOWN: dict[str, Callable[[int], Shown]] = {
    "campaign": _campaign, "group_buy": _group, "item": _item, "merchant": _merchant}


def share_card(user_id: int, kind: str, target_id: int, public_base_url: str) -> dict:
    """The card ``user_id`` shares of the ``kind`` ``target_id``."""
    shown = _SHOWN[kind](target_id)
    code = code_for(USER, user_id)
    scene = scenes.validate_scene(scenes.share_scene(code, kind, target_id))
    return {"kind": kind, "id": target_id, "title": shown.title, "image_url": shown.image_url,
            "page": PAGES[kind],
            "path": f"{PAGES[kind]}?id={target_id}&scene={quote(scene, safe='')}",
            "scene": scene, "link": scenes.share_link(public_base_url, code, kind, target_id)}


def share_code_image(provider: QrCodeProvider, user_id: int, kind: str, target_id: int,
                     fmt: str, public_base_url: str) -> QrResult:
    """The card's code image: a mini-program code opening its page with its scene (png), or
    a QR code of its link (svg); made once per scene."""
    check_format(fmt)
    _SHOWN[kind](target_id)
    code = code_for(USER, user_id)
    return code_image(provider, fmt, scenes.share_scene(code, kind, target_id),
                      scenes.share_link(public_base_url, code, kind, target_id), PAGES[kind])
