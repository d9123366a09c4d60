"""Bulk data at demo scale, loaded straight into the database before the servers start.

A loader is one function registered with ``@loader("name")``: it receives the settings the
servers run with and the ``Scale``, inserts its rows with ``insert_many`` in chunks (one
transaction per loader: fast on SQLite and on MariaDB) and returns how many rows it wrote.
A scenario names the loaders it needs (``data=("users",)``); each runs once per database.
Merchants, shops and goods arrive as one loader each when those tables exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from peewee import chunked, fn

from alliance.accounts.models import User, WechatIdentity
from alliance.db import connection, transaction, utcnow
from config.settings import Settings
from sandbox.wechat import stand_in_id

CHUNK_ROWS = 1000


@dataclass(frozen=True)
class Scale:
    """How much data a run loads."""

    users: int = 100_000


SMOKE_SCALE = Scale(users=200)

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


def load(settings: Settings, scale: Scale, names: Iterable[str]) -> dict[str, int]:
    """Run the named loaders (each once, in registration order); rows written by each."""
    wanted = set(names)
    unknown = wanted - LOADERS.keys()
    if unknown:
        raise KeyError(f"unknown data loaders: {', '.join(sorted(unknown))}")
    with connection():
        return {name: fn_(settings, scale) for name, fn_ in LOADERS.items() if name in wanted}
