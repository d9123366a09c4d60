"""Use cases of accounts: signing in with WeChat, a phone code or an email code; binding
and unbinding a phone or an email; deleting an account. One person, one account: binding an
address that another account holds merges this account into that one."""
from __future__ import annotations

from peewee import IntegrityError, fn

from alliance.accounts import codes
from alliance.accounts.contacts import mask_email, mask_phone
from alliance.accounts.merge import merge_users, user_data_handlers
from alliance.accounts.models import User, WechatIdentity
from alliance.clock import to_local_iso
from alliance.db import transaction, utcnow
from alliance.prepared import Arg, Prepared
from alliance.errors import AllianceError, Conflict, NotFound
from alliance.ports import MailSender, SmsSender, WeChatAuth, WeChatSession

_ADDRESS_FIELD = {codes.SMS: User.phone, codes.EMAIL: User.email}
EMAIL_SUBJECT = "异业联盟验证码"
EMAIL_TEXT = ("您的验证码是 {code}，{minutes} 分钟内有效，请勿泄露给他人。\n"
              "如非本人操作，请忽略本邮件。")


class PhoneAlreadyBound(AllianceError):
    code = "PHONE_ALREADY_BOUND"
    http_status = 409
    message = "该手机号已绑定其他账号"


class EmailAlreadyBound(AllianceError):
    code = "EMAIL_ALREADY_BOUND"
    http_status = 409
    message = "该邮箱已绑定其他账号"


class AccountDisabled(AllianceError):
    code = "ACCOUNT_DISABLED"
    http_status = 403
    message = "账号已被停用，请联系客服"


class LastSignInMethod(Conflict):
    code = "LAST_SIGN_IN_METHOD"
    message = "这是账号唯一的登录方式，无法解绑"


def _identity_of(session: WeChatSession) -> WechatIdentity | None:
    return (WechatIdentity.select(WechatIdentity, User).join(User)
            .where(WechatIdentity.appid == session.appid,
                   WechatIdentity.openid == session.openid)
            .first())


def user_for_wechat_session(session: WeChatSession, nickname: str = "") -> tuple[User, bool]:
    """The user behind a WeChat identity, created on first sight; (user, created).

    A known unionid links a new app's openid to the same person; an identity that learns
    its unionid late joins the account already holding it (the two accounts merge). Two
    first logins racing for one openid end on the same user: the unique (appid, openid)
    index decides.
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
                        return _join_unionid_sibling(identity.user, session.unionid), False
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


def bind_phone_from_wechat(auth: WeChatAuth, user_id: int, code: str) -> tuple[User, bool]:
    """Attach the phone number WeChat vouches for (``getPhoneNumber`` code) to the user.

    (user, merged): when another account holds the number, this account is merged into it
    and that account is answered.
    """
    number = auth.phone_number(code)
    return bind_address(user_id, codes.SMS, number.phone)


def send_verification_code(channel: str, target: str, client_ip: str, sms: SmsSender,
                           mailer: MailSender, limits: codes.CodeLimits) -> codes.CodeSent:
    """Send a one-time code to a phone (``sms``) or an email address, to sign in or bind it."""
    if channel == codes.SMS:
        def deliver(code: str) -> None:
            sms.send_code(target, code)
    else:
        def deliver(code: str) -> None:
            minutes = int(codes.CODE_TTL.total_seconds()) // 60
            mailer.send(target, EMAIL_SUBJECT, EMAIL_TEXT.format(code=code, minutes=minutes))
    return codes.send_code(channel, target, client_ip, deliver, limits)


def login_with_code(channel: str, target: str, code: str) -> tuple[User, bool]:
    """Sign in with a code sent to a phone (``sms``) or an email address; (user, created).

    The account holding the address signs in; an address no account holds gets a new one.
    """
    codes.consume_code(channel, target, code)
    field = _ADDRESS_FIELD[channel]
    for attempt in range(2):
        try:
            with transaction():
                user = User.get_or_none(field == target)
                created = user is None
                if created:
                    user = User.create(**{field.name: target})
        except IntegrityError:  # a concurrent first sign-in created it: take that one
            if attempt:
                raise
            continue
        if user.status != "active":
            raise AccountDisabled()
        return user, created
    raise AssertionError("unreachable")


def bind_verified_address(user_id: int, channel: str, target: str, code: str) -> tuple[User, bool]:
    """Bind a phone or email proven by a code sent to it; (user, merged) as bind_address."""
    get_user(user_id)
    codes.consume_code(channel, target, code)
    return bind_address(user_id, channel, target)


def bind_address(user_id: int, channel: str, target: str) -> tuple[User, bool]:
    """Attach a verified phone or email to the user; (user, merged).

    When another active account holds the address, the person owns both: this account is
    merged into that one (everything moves with it, in one transaction, recorded) and the
    surviving account is answered.
    """
    field = _ADDRESS_FIELD[channel]
    refused = PhoneAlreadyBound if channel == codes.SMS else EmailAlreadyBound
    masked = mask_phone(target) if channel == codes.SMS else mask_email(target)
    for attempt in range(2):
        try:
            with transaction():
                user = get_user(user_id)
                if getattr(user, field.name) == target:
                    return user, False
                holder = User.get_or_none(field == target)
                if holder is None:
                    (User.update({field: target, User.updated_at: utcnow()})
                     .where(User.id == user_id).execute())
                    return get_user(user_id), False
                if holder.status != "active":
                    raise refused(details={field.name: masked})
                merge_users(user_id, holder.id, channel)
                return get_user(holder.id), True
        except IntegrityError:  # taken meanwhile by another account: merge on the retry
            if attempt:
                raise refused(details={field.name: masked}) from None
    raise AssertionError("unreachable")


def unbind_address(user_id: int, channel: str) -> User:
    """Remove the user's phone or email, unless it is the last way to sign in."""
    field = _ADDRESS_FIELD[channel]
    other = User.email if channel == codes.SMS else User.phone
    with transaction():
        user = get_user(user_id)
        if getattr(user, field.name) is None:
            return user
        has_wechat = fn.EXISTS(WechatIdentity.select(WechatIdentity.id)
                               .where(WechatIdentity.user == user_id))
        # One guarded update: two unbinds racing cannot leave the account without a way in.
        done = (User.update({field: None, User.updated_at: utcnow()})
                .where(User.id == user_id, other.is_null(False) | has_wechat).execute())
        if not done:
            raise LastSignInMethod(details={"channel": channel})
    return get_user(user_id)


def delete_account(user_id: int) -> None:
    """Delete a consumer's account: personal data erased, ledgers kept anonymised.

    Every registered handler erases its domain's personal data (WeChat identities, codes,
    logins ...); the user row stays, without name, picture, phone or email, so that orders,
    points and other ledgers still balance while pointing at nobody.
    """
    with transaction():
        get_user(user_id)
        for handler in user_data_handlers():
            if handler.erase is not None:
                handler.erase(user_id)
        done = (User.update(status="deleted", nickname="", avatar_url="", phone=None,
                            email=None, updated_at=utcnow())
                .where(User.id == user_id, User.status == "active").execute())
        if not done:
            raise Conflict(details={"user_id": user_id})


def _join_unionid_sibling(user: User, unionid: str) -> User:
    """Merge ``user`` into the active account that already holds ``unionid``, if any."""
    sibling = (WechatIdentity.select(WechatIdentity.user).join(User)
               .where(WechatIdentity.unionid == unionid, WechatIdentity.user != user.id,
                      User.status == "active")
               .order_by(WechatIdentity.id).first())
    if sibling is None or user.status != "active":
        return user
    merge_users(user.id, sibling.user_id, "unionid")
    return User.get_by_id(sibling.user_id)


_USER_BY_ID = Prepared(lambda: User.select().where(User.id == Arg(0)).limit(1))


def get_user(user_id: int) -> User:
    """The account ``user_id``; USER_NOT_FOUND once it was deleted or merged away.

    Nearly every request reads it, so its SQL is built once (alliance.prepared.Prepared).
    """
    user = _USER_BY_ID.first(user_id)
    if user is None or user.status in ("deleted", "merged"):
        raise NotFound("用户不存在", code="USER_NOT_FOUND")
    return user


def user_view(user: User) -> dict:
    """The user as the mini-program sees them."""
    return {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url,
            "phone": mask_phone(user.phone), "phone_bound": bool(user.phone),
            "email": mask_email(user.email), "email_bound": bool(user.email),
            "created_at": to_local_iso(user.created_at)}
