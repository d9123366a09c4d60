"""Use cases of accounts: signing in with WeChat, binding a phone."""
from __future__ import annotations

from peewee import IntegrityError

from alliance.accounts.models import User, WechatIdentity
from alliance.clock import to_local_iso
from alliance.db import Arg, Prepared, transaction, utcnow
from alliance.errors import AllianceError, NotFound
from alliance.ports import WeChatAuth, WeChatSession


class PhoneAlreadyBound(AllianceError):
    code = "PHONE_ALREADY_BOUND"
    http_status = 409
    message = "该手机号已绑定其他账号"


class AccountDisabled(AllianceError):
    code = "ACCOUNT_DISABLED"
    http_status = 403
    message = "账号已被停用，请联系客服"


def _identity_of(session: WeChatSession) -> WechatIdentity | None:
    return (WechatIdentity.select(WechatIdentity, User).join(User)
            .where(WechatIdentity.appid == session.appid,
                   WechatIdentity.openid == session.openid)
            .first())


def user_for_wechat_session(session: WeChatSession, nickname: str = "") -> tuple[User, bool]:
    """The user behind a WeChat identity, created on first sight; (user, created).

    A known unionid links a new app's openid to the same person. Two first logins racing
    for one openid end on the same user: the unique (appid, openid) index decides.
    """
    known = _identity_of(session)
    if known is not None and (not session.unionid or known.unionid == session.unionid):
        # A returning user: nothing to write, so no write transaction (a lock on SQLite).
        return known.user, False
    for attempt in range(2):
        try:
            with transaction():
                identity = _identity_of(session)
                if identity is not None:
                    if session.unionid and identity.unionid != session.unionid:
                        identity.unionid = session.unionid
                        identity.save(only=[WechatIdentity.unionid])
                    return identity.user, False
                user = None
                if session.unionid:
                    sibling = (WechatIdentity.select(WechatIdentity, User).join(User)
                               .where(WechatIdentity.unionid == session.unionid).first())
                    user = sibling.user if sibling else None
                created = user is None
                if created:
                    user = User.create(nickname=nickname)
                WechatIdentity.create(appid=session.appid, openid=session.openid,
                                      unionid=session.unionid, user=user)
                return user, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def login_with_wechat(auth: WeChatAuth, code: str) -> tuple[User, bool]:
    """Sign a mini-program user in with a ``wx.login`` code; (user, created)."""
    session = auth.code_to_session(code)
    user, created = user_for_wechat_session(session)
    if user.status != "active":
        raise AccountDisabled()
    return user, created


def bind_phone_from_wechat(auth: WeChatAuth, user_id: int, code: str) -> User:
    """Attach the phone number WeChat vouches for (``getPhoneNumber`` code) to the user."""
    number = auth.phone_number(code)
    with transaction():
        user = get_user(user_id)
        if user.phone == number.phone:
            return user
        holder = User.get_or_none(User.phone == number.phone)
        if holder is not None:
            raise PhoneAlreadyBound(details={"phone": mask_phone(number.phone)})
        try:
            (User.update(phone=number.phone, updated_at=utcnow())
             .where(User.id == user_id).execute())
        except IntegrityError:
            raise PhoneAlreadyBound(details={"phone": mask_phone(number.phone)}) from None
    return get_user(user_id)


_USER_BY_ID = Prepared(lambda: User.select().where(User.id == Arg(0)).limit(1))


def get_user(user_id: int) -> User:
    """The user ``user_id`` (USER_NOT_FOUND when absent or deleted); every request's read."""
    user = _USER_BY_ID.first(user_id)
    if user is None or user.status == "deleted":
        raise NotFound("用户不存在", code="USER_NOT_FOUND")
    return user


def mask_phone(phone: str | None) -> str | None:
    """138****8000: what a response may show of a phone number."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def user_view(user: User) -> dict:
    """The user as the mini-program sees them."""
    return {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url,
            "phone": mask_phone(user.phone), "phone_bound": bool(user.phone),
            "created_at": to_local_iso(user.created_at)}
