"""The platform's settings: name, logo, customer-service contact and the two policies.

Every field has a default, answered until an administrator first changes it. A policy's text
is versioned: each change of it bumps its version and keeps the new text as a row of its own,
so what a consumer agreed to (a version) can always be shown again. Version 1 of each is the
built-in text, stored as a row when it is first replaced.

The public view (the mini-program reads it on every start) is kept per process in
``PUBLIC`` and forgotten in every process through the invalidation feed when a change commits.
"""
from __future__ import annotations

import re
from typing import Any

from peewee import IntegrityError

from alliance import checks
from alliance.accounts.models import Operator
from alliance.accounts.operators import record_audit
from alliance.clock import to_local_iso
from alliance.db import transaction, utcnow
from alliance.errors import NotFound, ValidationFailed
from alliance.infra.localcache import LocalCache
from alliance.media.models import Upload
from alliance.media.services import public_path
from alliance.platform.models import PlatformSettings, PolicyVersion

ROW_ID = 1
POLICIES = ("privacy_policy", "user_agreement")
MAX_NAME = 32
MAX_PHONE = 32
MAX_HOURS = 64
MAX_POLICY = 20_000
_PHONE = re.compile(r"^[0-9+() -]*$")

DEFAULTS: dict[str, Any] = {
    "name": "异业联盟",
    "logo_upload": None,
    "contact_phone": "",
    "contact_hours": "每天 09:00-21:00",
}
DEFAULT_POLICIES = {
    "privacy_policy": (
        "隐私政策\n\n我们仅为提供服务收集必要的信息（微信身份、手机号、订单与优惠券记录），"
        "不会出售你的个人信息。你可以在“我的”中查看、更正或注销账号。"),
    "user_agreement": (
        "用户协议\n\n欢迎使用异业联盟小程序。使用本服务即表示你同意遵守平台规则，"
        "诚信交易，不利用优惠券、积分或推荐奖励进行违规套利。"),
}
FIELDS = frozenset({"name", "logo_upload_id", "contact_phone", "contact_hours", *POLICIES})

# "platform": the public view; "<kind>": the current text of a policy. Old versions never
# change and are read rarely: not cached.
PUBLIC = LocalCache(60, max_entries=8, name="platform_settings")


class PolicyVersionNotFound(NotFound):
    code = "POLICY_VERSION_NOT_FOUND"
    message = "该版本不存在"


def _row() -> PlatformSettings:
    """The settings row, or an unsaved one holding the defaults."""
    row = PlatformSettings.get_or_none(PlatformSettings.id == ROW_ID)
    return row if row is not None else PlatformSettings(id=ROW_ID, **DEFAULTS)


def _policy_text(kind: str, version: int) -> PolicyVersion | None:
    stored = PolicyVersion.get_or_none(PolicyVersion.kind == kind, PolicyVersion.version == version)
    if stored is None and version == 1:
        return PolicyVersion(kind=kind, version=1, text=DEFAULT_POLICIES[kind], created_by=None,
                             created_at=None)
    return stored


def _check(changes: dict) -> dict:
    """The validated columns for the fields of ``changes`` (a PUT body)."""
    checks.refuse_unknown(changes, FIELDS)
    columns: dict[str, Any] = {}
    if "name" in changes:
        columns["name"] = checks.text(changes["name"], "name", MAX_NAME, required=True)
    if "contact_phone" in changes:
        phone = checks.text(changes["contact_phone"], "contact_phone", MAX_PHONE)
        if not _PHONE.match(phone):
            raise ValidationFailed("客服电话只能包含数字、空格和 + - ( )",
                                   details={"field": "contact_phone"})
        columns["contact_phone"] = phone
    if "contact_hours" in changes:
        columns["contact_hours"] = checks.text(changes["contact_hours"], "contact_hours",
                                               MAX_HOURS)
    if "logo_upload_id" in changes:
        columns["logo_upload"] = changes["logo_upload_id"]  # checked against the uploads below
    for kind in POLICIES:
        if kind in changes:
            columns[kind] = checks.text(changes[kind], kind, MAX_POLICY, required=True)
    return columns


def _check_logo(upload_id: object) -> str | None:
    if upload_id is None:
        return None
    upload = Upload.get_or_none(Upload.id == upload_id) if isinstance(upload_id, str) else None
    if upload is None or upload.operator_id is None or upload.purpose != "logo":
        raise ValidationFailed("Logo 图片不存在，请重新上传",
                               details={"field": "logo_upload_id", "issue": "unknown upload"})
    return upload.id


def _ensure_row() -> None:
    """Create the settings row from the defaults if it is missing, in a transaction of its
    own: a concurrent creator's duplicate is the row wanted. (Created inside the change's
    transaction, after an UPDATE that found nothing, two first changes would hold gap locks
    on MySQL and deadlock on each other's INSERT.)"""
    if PlatformSettings.select().where(PlatformSettings.id == ROW_ID).exists():
        return
    try:
        with transaction():
            PlatformSettings.create(id=ROW_ID, **DEFAULTS)
    except IntegrityError:
        pass


def _lock() -> None:
    """Take the settings row's lock: whatever this transaction reads after it, another
    change committed before it (on MySQL the first read of a transaction fixes its
    snapshot, and it comes after this UPDATE waited)."""
    PlatformSettings.update(revision=PlatformSettings.revision + 1).where(
        PlatformSettings.id == ROW_ID).execute()


def update_settings(operator_id: int, changes: dict) -> dict:
    """Change the fields of ``changes`` (the others stay); a policy whose text differs gets a
    new version. Audited with what each field was and became; the admin view after."""
    columns = _check(changes)
    now = utcnow()
    _ensure_row()
    with transaction():
        _lock()
        row = PlatformSettings.get_by_id(ROW_ID)
        if "logo_upload" in columns:
            columns["logo_upload"] = _check_logo(columns["logo_upload"])
        before, after, updates = {}, {}, {}
        for column, value in columns.items():
            if column in POLICIES:
                current = getattr(row, f"{column}_version")
                text = _policy_text(column, current)
                if text.text == value:
                    continue
                if text.id is None:  # the built-in version 1, kept from now on
                    PolicyVersion.create(kind=column, version=1, text=DEFAULT_POLICIES[column],
                                         created_by=None, created_at=now)
                PolicyVersion.create(kind=column, version=current + 1, text=value,
                                     created_by=operator_id, created_at=now)
                updates[f"{column}_version"] = current + 1
                before[column], after[column] = {"version": current}, {"version": current + 1}
            elif getattr(row, column) != value:
                updates[column] = value
                before[column], after[column] = getattr(row, column), value
        if updates:
            (PlatformSettings.update(**updates, updated_by=operator_id, updated_at=now)
             .where(PlatformSettings.id == ROW_ID).execute())
            record_audit(operator_id, "settings.update", "platform_settings", ROW_ID,
                         details={"before": before, "after": after})
            PUBLIC.forget(None)
        return admin_view()


def admin_view() -> dict:
    """Every setting as administrators edit it, the policies' current texts included."""
    row = _row()
    policies = {}
    for kind in POLICIES:
        current = _policy_text(kind, getattr(row, f"{kind}_version"))
        policies[kind] = {"version": current.version, "text": current.text,
                          "updated_at": to_local_iso(current.created_at)}
    return {"name": row.name, "logo_upload_id": row.logo_upload,
            "logo_url": public_path(row.logo_upload),
            "contact": {"phone": row.contact_phone, "hours": row.contact_hours},
            **policies, "updated_by": row.updated_by,
            "updated_at": to_local_iso(row.updated_at) if row.updated_by else None}


def policy_versions(kind: str) -> list[dict]:
    """Every version of a policy, newest first (version 1 included while it is the default)."""
    rows = list(PolicyVersion.select().where(PolicyVersion.kind == kind)
                .order_by(PolicyVersion.version.desc()))
    if not rows:
        rows = [_policy_text(kind, 1)]
    names = dict(Operator.select(Operator.id, Operator.display_name)
                 .where(Operator.id.in_([r.created_by for r in rows if r.created_by])).tuples())
    return [{"version": r.version, "text": r.text, "created_by": r.created_by,
             "created_by_name": names.get(r.created_by),
             "created_at": to_local_iso(r.created_at)} for r in rows]


def public_platform() -> dict:
    """What the mini-program shows of the platform (cached per process)."""
    cached = PUBLIC.get("platform")
    if cached is not None:
        return cached
    ticket = PUBLIC.ticket()
    row = _row()
    view = {"name": row.name, "logo_url": public_path(row.logo_upload),
            "contact": {"phone": row.contact_phone, "hours": row.contact_hours},
            "privacy_policy_version": row.privacy_policy_version,
            "user_agreement_version": row.user_agreement_version}
    PUBLIC.put("platform", view, ticket)
    return view


def public_policy(kind: str, version: int | None = None) -> dict:
    """A policy's current text (cached per process), or the text of ``version``."""
    if version is None:
        cached = PUBLIC.get(kind)
        if cached is not None:
            return cached
        ticket = PUBLIC.ticket()
        found = _policy_text(kind, getattr(_row(), f"{kind}_version"))
    else:
        ticket, found = None, _policy_text(kind, version)
    if found is None:
        raise PolicyVersionNotFound(details={"kind": kind, "version": version})
    view = {"kind": kind, "version": found.version, "text": found.text,
            "effective_at": to_local_iso(found.created_at)}
    if ticket is not None:
        PUBLIC.put(kind, view, ticket)
    return view
