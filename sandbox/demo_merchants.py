"""Demo merchants around People's Square, Shanghai (31.2304, 121.4737, GCJ-02): three
approved merchants of different industries, each with a shop and goods and services in
stock; ``sandbox-owner-N`` owns merchant N and ``sandbox-clerk-1`` is a clerk of the first.

They are entered as already audited (the history says so), as a data import would.
"""
from __future__ import annotations

import io

from PIL import Image

from alliance.catalog.models import CatalogItem
from alliance.db import utcnow
from alliance.media.services import store_image
from alliance.merchants.identifiers import (credit_code_check_char, id_number_check_char,
                                            mask_id_number)
from alliance.merchants.models import Merchant, MerchantStatusChange, StaffMembership
from alliance.merchants.shops import create_shop
from alliance.protect import FieldProtector
from config.settings import Settings
from server.storage import make_storage

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEMO_MERCHANTS = [
    {"owner": "sandbox-owner-1", "name": "老街面馆", "industry": "catering",
     "company": "上海老街餐饮管理有限公司", "code17": "91310101MA1FPX001", "popularity": 120,
     "shop": {"name": "老街面馆（人民广场店）", "address": "上海市黄浦区南京西路 100 号",
              "lat": 31.2330, "lng": 121.4760, "phone": "021-63210001",
              "intro": "三十年老汤，手工拉面。", "hours": [["07:00", "22:00"]]},
     "items": [("service", "红烧牛肉面堂食券", "面食", 2800, 3200, 500),
               ("goods", "招牌牛肉面礼盒（4 人份）", "礼盒", 6800, 8800, 200)]},
    {"owner": "sandbox-owner-2", "name": "星光影城", "industry": "entertainment",
     "company": "上海星光影院有限公司", "code17": "91310101MA1FPX002", "popularity": 90,
     "shop": {"name": "星光影城（来福士店）", "address": "上海市黄浦区西藏中路 268 号 7 楼",
              "lat": 31.2285, "lng": 121.4700, "phone": "021-63210002",
              "intro": "IMAX 巨幕，杜比全景声。", "hours": [["10:00", "02:00"]]},
     "items": [("service", "2D 电影票（通兑）", "电影票", 3500, 5000, 1000),
               ("goods", "星光限定公仔", "周边", 3900, None, 100)]},
    {"owner": "sandbox-owner-3", "name": "青丝美发", "industry": "beauty_hair",
     "company": "上海青丝美容美发有限公司", "code17": "91310101MA1FPX003", "popularity": 60,
     "shop": {"name": "青丝美发（人广店）", "address": "上海市黄浦区福州路 500 号",
              "lat": 31.2350, "lng": 121.4800, "phone": "021-63210003",
              "intro": "资深发型师，一人一方案。", "hours": [["10:00", "21:30"]]},
     "items": [("service", "精剪造型", "美发", 8800, 12800, 300),
               ("goods", "修护护发精油 100ml", "护理", 12800, 15800, 50)]},
]


def _demo_image(text_colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), text_colour).save(buffer, format="PNG")
    return buffer.getvalue()


def merchants_step(settings: Settings, people: dict) -> None:
    """Create the demo merchants, their shops, items and staff."""
    protector = FieldProtector(settings.secret_key)
    storage = make_storage(settings)
    for index, spec in enumerate(DEMO_MERCHANTS, start=1):
        owner = people[spec["owner"]]
        images = {purpose: store_image(storage, owner.id, purpose,
                                       _demo_image((40 * index, 90, 140)),
                                       settings.max_upload_bytes).id
                  for purpose in ("licence", "id_card")}
        id_number = f"3101011980010{index}00"
        id_number = id_number[:17] + id_number_check_char(id_number[:17])
        now = utcnow()
        merchant = Merchant.create(
            name=spec["name"], company_name=spec["company"],
            credit_code=spec["code17"] + credit_code_check_char(spec["code17"]),
            industry=spec["industry"], legal_rep_name=owner.nickname,
            legal_rep_id_cipher=protector.encrypt(id_number, "legal_rep_id"),
            legal_rep_id_hash=protector.lookup_hash(id_number, "legal_rep_id"),
            legal_rep_id_masked=mask_id_number(id_number),
            licence_upload=images["licence"], id_front_upload=images["id_card"],
            id_back_upload=images["id_card"], contact_phone=f"1380000000{index}",
            owner=owner, status="approved", popularity=spec["popularity"], reviewed_at=now)
        MerchantStatusChange.create(merchant=merchant, from_status=None, to_status="approved",
                                    actor_kind="system", reason="演示数据")
        StaffMembership.create(merchant=merchant, user=owner, role="merchant_owner")
        shop = spec["shop"]
        create_shop(merchant.id, owner.id, name=shop["name"], address=shop["address"],
                    lat=shop["lat"], lng=shop["lng"], phone=shop["phone"], intro=shop["intro"],
                    opening_hours={day: shop["hours"] for day in EVERY_DAY})
        for kind, name, category, price, original, stock in spec["items"]:
            CatalogItem.create(merchant=merchant, kind=kind, name=name, category=category,
                               price_fen=price, original_price_fen=original, stock=stock,
                               status="on_shelf", description=f"{spec['name']}：{name}")
        people[f"merchant-{index}"] = merchant
    StaffMembership.create(merchant=people["merchant-1"], user=people["sandbox-clerk-1"],
                           role="merchant_clerk", invited_by=people["sandbox-owner-1"].id)
