"""One person, one account: merges through the handler registry, deletion, unbinding."""
import json
import threading

import pytest
from peewee import ForeignKeyField

from alliance.accounts import codes
from alliance.accounts import services as accounts
from alliance.accounts.merge import MergeConflict, merge_users, user_data_handlers
from alliance.accounts.models import (AccountMerge, LoginCode, RefreshFamily, RefreshToken,
                                      User, WechatIdentity)
from alliance.accounts.tokens import TokenService
from alliance.errors import NotFound
from alliance.models import ALL_MODELS
from alliance.ports import WeChatSession

TOKENS = TokenService("k" * 48)


def wechat_user(openid: str, appid: str = "wxapp", unionid: str | None = None) -> User:
    return accounts.user_for_wechat_session(WeChatSession(appid, openid, unionid))[0]


def refers_to_user(field) -> bool:
    """A foreign key to the user table, or an integer column named like one."""
    if isinstance(field, ForeignKeyField):
        return field.rel_model is User
    return field.column_name == "user_id" or field.column_name.endswith("_user_id")


def test_every_table_that_refers_to_a_user_has_a_handler():
    covered = {model for handler in user_data_handlers() for model in handler.models}
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if refers_to_user(field):
                assert model in covered, (
                    f"{model.__name__}.{field.name} refers to a user: register what a merge "
                    f"and a deletion do with it (alliance.accounts.merge.register_user_data)")


def test_merge_moves_identities_from_both_sides_and_records_it(database):
    source = wechat_user("o-src-app")
    accounts.user_for_wechat_session(WeChatSession("wxoa", "o-src-oa", None))
    WechatIdentity.update(user=source.id).where(WechatIdentity.openid == "o-src-oa").execute()
    target = wechat_user("o-dst-app")
    record = merge_users(source.id, target.id, "phone")
    owners = {i.openid: i.user_id for i in WechatIdentity.select()}
    assert owners == {"o-src-app": target.id, "o-src-oa": target.id, "o-dst-app": target.id}
    assert User.get_by_id(source.id).status == "merged"
    assert record.reason == "phone" and json.loads(record.moved)["wechat_identities"] == 2
    assert AccountMerge.select().count() == 1


def test_merge_revokes_the_absorbed_accounts_logins_only(database):
    source, target = wechat_user("o-1"), wechat_user("o-2")
    TOKENS.issue("user", source.id)
    TOKENS.issue("user", source.id)
    kept = TOKENS.issue("user", target.id)
    merge_users(source.id, target.id, "phone")
    revoked = RefreshFamily.select().where(RefreshFamily.revoked_reason == "merged")
    assert {f.subject_id for f in revoked} == {str(source.id)} and revoked.count() == 2
    assert RefreshToken.select().where(RefreshToken.revoked == True).count() == 2  # noqa: E712
    assert TOKENS.rotate(kept.refresh_token)  # the survivor's login still works


def test_merge_keeps_the_targets_profile_and_takes_what_it_lacks(database):
    source = User.create(nickname="小爱", avatar_url="https://img/a.png", phone="13800000001",
                         email="a@example.com")
    target = User.create(nickname="", phone="13800000002")
    merge_users(source.id, target.id, "email")
    target = User.get_by_id(target.id)
    assert (target.nickname, target.avatar_url, target.phone, target.email) == (
        "小爱", "https://img/a.png", "13800000002", "a@example.com")
    source = User.get_by_id(source.id)
    assert (source.nickname, source.phone, source.email) == ("", None, None)


def test_merge_of_an_inactive_account_is_refused_and_changes_nothing(database):
    source, target = wechat_user("o-1"), wechat_user("o-2")
    User.update(status="disabled").where(User.id == target.id).execute()
    with pytest.raises(MergeConflict) as caught:
        merge_users(source.id, target.id, "phone")
    assert caught.value.http_status == 409 and caught.value.code == "ACCOUNT_MERGE_CONFLICT"
    assert WechatIdentity.get(WechatIdentity.openid == "o-1").user_id == source.id
    assert not AccountMerge.select().exists()


def test_binding_a_phone_held_by_another_account_merges_into_it(database):
    holder = User.create(phone="13800138000")
    wechat = wechat_user("o-wechat")
    user, merged = accounts.bind_address(wechat.id, codes.SMS, "13800138000")
    assert merged and user.id == holder.id
    assert WechatIdentity.get(WechatIdentity.openid == "o-wechat").user_id == holder.id
    with pytest.raises(NotFound):
        accounts.get_user(wechat.id)
    # Signing in with WeChat now reaches the surviving account.
    assert wechat_user("o-wechat").id == holder.id


def test_binding_a_free_phone_just_binds(database):
    wechat = wechat_user("o-wechat")
    user, merged = accounts.bind_address(wechat.id, codes.SMS, "13800138000")
    assert not merged and user.id == wechat.id and user.phone == "13800138000"


def test_accounts_binding_one_phone_at_once_end_as_one_account(database):
    users = [wechat_user(f"o-{n}") for n in range(4)]
    barrier, results, errors = threading.Barrier(4), [], []

    def bind(user):
        barrier.wait()
        try:
            results.append(accounts.bind_address(user.id, codes.SMS, "13800138000"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bind, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    holder = User.get(User.phone == "13800138000")
    assert {user.id for user, _ in results} == {holder.id}
    assert sorted(merged for _, merged in results) == [False, True, True, True]
    assert User.select().where(User.status == "merged").count() == 3
    assert {i.user_id for i in WechatIdentity.select()} == {holder.id}
    assert AccountMerge.select().count() == 3


def test_identity_that_learns_its_unionid_late_joins_the_account_holding_it(database):
    official = wechat_user("o-oa", appid="wxoa", unionid="union-1")
    app_user = wechat_user("o-app")  # first seen without a unionid
    again = accounts.user_for_wechat_session(WeChatSession("wxapp", "o-app", "union-1"))[0]
    assert again.id == official.id
    assert User.get_by_id(app_user.id).status == "merged"
    assert AccountMerge.get().reason == "unionid"


def test_delete_account_erases_personal_data_and_keeps_the_row(database):
    user = wechat_user("o-del")
    User.update(nickname="小爱", phone="13800138000", email="a@example.com").where(
        User.id == user.id).execute()
    LoginCode.create(channel="sms", target="13800138000")
    LoginCode.create(channel="sms", target="13900139000")
    TOKENS.issue("user", user.id)
    accounts.delete_account(user.id)
    row = User.get_by_id(user.id)
    assert (row.status, row.nickname, row.phone, row.email) == ("deleted", "", None, None)
    assert not WechatIdentity.select().exists()
    assert [c.target for c in LoginCode.select()] == ["13900139000"]
    assert RefreshFamily.get().revoked_reason == "deleted"
    assert wechat_user("o-del").id != user.id  # WeChat now signs in a new account


def test_unbinding_the_last_way_to_sign_in_is_refused(database):
    user = User.create(phone="13800138000")
    with pytest.raises(accounts.LastSignInMethod) as caught:
        accounts.unbind_address(user.id, codes.SMS)
    assert caught.value.http_status == 409 and caught.value.code == "LAST_SIGN_IN_METHOD"
    User.update(email="a@example.com").where(User.id == user.id).execute()
    assert accounts.unbind_address(user.id, codes.SMS).phone is None
    with pytest.raises(accounts.LastSignInMethod):
        accounts.unbind_address(user.id, codes.EMAIL)


def test_unbinding_a_phone_of_a_wechat_user_works(database):
    user = wechat_user("o-1")
    accounts.bind_address(user.id, codes.SMS, "13800138000")
    assert accounts.unbind_address(user.id, codes.SMS).phone is None
