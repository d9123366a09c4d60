"""Bulk data at demo scale, loaded straight into the database before the servers start.

A loader is one function registered with ``@loader("name")``: it receives the settings the
servers run with and the ``Scale``, inserts its rows with ``insert_many`` in chunks (one
transaction per loader: fast on SQLite and on MariaDB) and returns how many rows it wrote.
A scenario names the loaders it needs (``data=("users",)``); each runs once per database, in
the order they are registered here (shops and goods go to the merchants loaded before them).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from peewee import chunked, fn

from alliance.accounts.models import User, WechatIdentity
from alliance.catalog.models import CatalogItem
from alliance.db import connection, transaction, utcnow
from alliance.merchants.geo import lat_band
from alliance.merchants.identifiers import credit_code_check_char
from alliance.merchants.industries import INDUSTRIES
from alliance.merchants.models import Merchant, Shop
from config.settings import Settings
from sandbox.wechat import stand_in_id

CHUNK_ROWS = 1000
CENTRE = (31.2304, 121.4737)  # People's Square, Shanghai
SPREAD = (0.30, 0.35)  # degrees around it: about 66 km x 66 km


@dataclass(frozen=True)
class Scale:
    """How much data a run loads."""

    users: int = 100_000
    merchants: int = 10_000
    shops: int = 100_000
    goods: int = 100_000


SMOKE_SCALE = Scale(users=200, merchants=50, shops=200, goods=200)

Loader = Callable[[Settings, Scale], int]
LOADERS: dict[str, Loader] = {}


def loader(name: str) -> Callable[[Loader], Loader]:
    """Register a bulk loader under ``name`` (what scenarios list in ``data``)."""

    def register(fn_: Loader) -> Loader:
        LOADERS[name] = fn_
        return fn_

    return register


def insert_chunked(model, rows: Iterable[dict]) -> int:
    """Insert ``rows`` into ``model`` in multi-row INSERTs of CHUNK_ROWS; the count."""
    count = 0
    for chunk in chunked(rows, CHUNK_ROWS):
        model.insert_many(chunk).execute()
        count += len(chunk)
    return count


def bench_user_name(index: int) -> str:
    """The stand-in name of loaded user ``index`` (1-based): ``sandbox-<name>`` logs in."""
    return f"bench-{index}"


@loader("users")
def load_users(settings: Settings, scale: Scale) -> int:
    """``scale.users`` consumers with mini-program identities, as the WeChat sandbox names them."""
    now = utcnow()
    appid = settings.wechat_miniapp_appid
    with transaction():
        first_id = (User.select(fn.MAX(User.id)).scalar() or 0) + 1
        ids = range(first_id, first_id + scale.users)

        def users() -> Iterator[dict]:
            for offset, user_id in enumerate(ids, start=1):
                yield {"id": user_id, "nickname": f"压测用户{offset}", "avatar_url": "",
                       "status": "active", "created_at": now, "updated_at": now}

        def identities() -> Iterator[dict]:
            for offset, user_id in enumerate(ids, start=1):
                name = bench_user_name(offset)
                yield {"appid": appid, "openid": stand_in_id(appid, name),
                       "unionid": stand_in_id("union", name), "user": user_id,
                       "created_at": now}

        return insert_chunked(User, users()) + insert_chunked(WechatIdentity, identities())


def bench_position(rng: random.Random) -> tuple[float, float]:
    """A point of the loaded area (where shops are, and where consumers search from)."""
    return (round(CENTRE[0] + rng.uniform(-SPREAD[0], SPREAD[0]), 6),
            round(CENTRE[1] + rng.uniform(-SPREAD[1], SPREAD[1]), 6))


@loader("merchants")
def load_merchants(settings: Settings, scale: Scale) -> int:
    """``scale.merchants`` approved merchants of every industry, owned by one bench user."""
    rng, now, industries = random.Random(8), utcnow(), sorted(INDUSTRIES)
    with transaction():
        owner = User.create(nickname="压测商户主")

        def merchants() -> Iterator[dict]:
            for n in range(scale.merchants):
                first17 = f"91310101MB{n:07d}"
                yield {"name": f"压测商户{n}", "company_name": f"压测公司{n}",
                       "credit_code": first17 + credit_code_check_char(first17),
                       "industry": industries[n % len(industries)], "intro": "压测数据",
                       "legal_rep_name": "压测", "legal_rep_id_cipher": "-",
                       "legal_rep_id_hash": "-", "legal_rep_id_masked": "-",
                       "licence_upload": "-", "id_front_upload": "-", "id_back_upload": "-",
                       "contact_phone": "13800000000", "owner": owner.id, "status": "approved",
                       "popularity": rng.randint(0, 1000), "submitted_at": now,
                       "reviewed_at": now, "created_at": now, "updated_at": now}

        return insert_chunked(Merchant, merchants()) + 1


def merchant_ids() -> list[int]:
    """The ids of the approved merchants (on a held connection)."""
    ids = [m.id for m in Merchant.select(Merchant.id).where(Merchant.status == "approved")
           .order_by(Merchant.id)]
    if not ids:
        raise RuntimeError("load the merchants first (list 'merchants' before it in data=)")
    return ids


@loader("shops")
def load_shops(settings: Settings, scale: Scale) -> int:
    """``scale.shops`` listed shops spread over Shanghai, dealt round the merchants."""
    rng, now = random.Random(9), utcnow()
    with transaction():
        ids = merchant_ids()

        def shops() -> Iterator[dict]:
            for n in range(scale.shops):
                lat, lng = bench_position(rng)
                yield {"merchant": ids[n % len(ids)], "name": f"压测门店{n}", "address": "上海市",
                       "lat": lat, "lng": lng, "lat_band": lat_band(lat), "status": "open",
                       "listed": True, "created_at": now, "updated_at": now}

        return insert_chunked(Shop, shops())


@loader("goods")
def load_goods(settings: Settings, scale: Scale) -> int:
    """``scale.goods`` goods and services on shelf, in stock, dealt round the merchants."""
    rng, now = random.Random(10), utcnow()
    with transaction():
        ids = merchant_ids()

        def goods() -> Iterator[dict]:
            for n in range(scale.goods):
                yield {"merchant": ids[n % len(ids)], "kind": "service" if n % 4 == 0 else "goods",
                       "name": f"压测商品{n}", "price_fen": rng.randint(100, 50_000),
                       "stock": 1_000_000, "status": "on_shelf", "created_at": now,
                       "updated_at": now}

        return insert_chunked(CatalogItem, goods())


def load(settings: Settings, scale: Scale, names: Iterable[str]) -> dict[str, int]:
    """Run the named loaders (each once, in registration order); rows written by each."""
    wanted = set(names)
    unknown = wanted - LOADERS.keys()
    if unknown:
        raise KeyError(f"unknown data loaders: {', '.join(sorted(unknown))}")
    with connection():
        return {name: fn_(settings, scale) for name, fn_ in LOADERS.items() if name in wanted}
