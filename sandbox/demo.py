"""Demo data for an empty database (``make run``): what CONTRACT.md's "Demo data" promises.

Each capability adds its step to ``STEPS``; a step receives the settings and the people
created before it. The stand-in logins (``sandbox-owner-1`` ...) are tied to their users
through the openids the WeChat sandbox gives those names.
"""
from __future__ import annotations

import logging
from typing import Callable

from alliance.accounts.models import User
from alliance.accounts.services import user_for_wechat_session
from alliance.db import connection, transaction
from alliance.officialaccount.models import OaAutoReply
from alliance.ports import WeChatSession
from config.settings import Settings
from sandbox.demo_campaigns import campaigns_step
from sandbox.demo_coupons import coupons_step
from sandbox.demo_merchants import merchants_step
from sandbox.wechat import stand_in_id

log = logging.getLogger("alliance.demo")

DEMO_PEOPLE = {
    "sandbox-owner-1": "面馆老板",
    "sandbox-owner-2": "影院老板",
    "sandbox-owner-3": "美发店老板",
    "sandbox-clerk-1": "面馆店员",
    "sandbox-alice": "小爱",
}


def stand_in_user(settings: Settings, login: str, nickname: str) -> User:
    """The user that the sandbox code ``login`` signs in as (created if new)."""
    name = login[len("sandbox-"):]
    session = WeChatSession(appid=settings.wechat_miniapp_appid,
                            openid=stand_in_id(settings.wechat_miniapp_appid, name),
                            unionid=stand_in_id("union", name))
    user, _ = user_for_wechat_session(session, nickname=nickname)
    return user


def people_step(settings: Settings, people: dict) -> None:
    for login, nickname in DEMO_PEOPLE.items():
        people[login] = stand_in_user(settings, login, nickname)


DEMO_AUTO_REPLIES = (
    ("subscribe", "", "欢迎关注异业联盟！在小程序里领取各家联盟商户的优惠券，积分全联盟通用。"),
    ("contains", "优惠", "本周联盟优惠：面馆满 50 减 10，影院观影券 8 折。打开小程序「领券」即可领取。"),
    ("click", "MENU_HELP", "客服时间 9:00-21:00，回复「优惠」查看本周活动。"),
)


def oa_step(settings: Settings, people: dict) -> None:
    """The official account's automatic replies (try them with _control/oa-push)."""
    for match, keyword, text in DEMO_AUTO_REPLIES:
        OaAutoReply.create(match=match, keyword=keyword, reply_text=text)


STEPS: list[Callable[[Settings, dict], None]] = [people_step, merchants_step, coupons_step,
                                                 campaigns_step, oa_step]


def is_empty() -> bool:
    return not User.select().exists()


def load(settings: Settings, if_empty: bool = True) -> bool:
    """Load the demo data; with ``if_empty`` only into a database without users. Loaded?"""
    with connection():
        if if_empty and not is_empty():
            return False
        people: dict = {}
        with transaction():
            for step in STEPS:
                step(settings, people)
    log.info("demo data loaded")
    return True
