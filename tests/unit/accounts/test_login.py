import threading

from alliance.accounts.models import User, WechatIdentity
from alliance.accounts.services import user_for_wechat_session
from alliance.ports import WeChatSession


def test_first_login_creates_user_and_identity(database):
    user, created = user_for_wechat_session(WeChatSession("wxapp", "openid-1", "union-1"))
    assert created and WechatIdentity.get(WechatIdentity.openid == "openid-1").user_id == user.id


def test_unionid_links_a_second_app_to_the_same_user(database):
    first, _ = user_for_wechat_session(WeChatSession("wxapp", "openid-1", "union-1"))
    second, created = user_for_wechat_session(WeChatSession("wxoa", "openid-oa", "union-1"))
    assert not created and second.id == first.id


def test_concurrent_first_logins_create_one_user(database):
    session = WeChatSession("wxapp", "openid-race", "union-race")
    results, errors = [], []
    barrier = threading.Barrier(8)

    def login():
        try:
            barrier.wait()
            results.append(user_for_wechat_session(session)[0].id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=login) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(results)) == 1
    assert User.select().count() == 1
