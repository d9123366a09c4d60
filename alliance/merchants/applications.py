"""Merchant applications: a user applies with the company's details, the legal
representative's ID and images of the licence and ID card; they resubmit after a rejection.

The ID number is stored encrypted with a keyed hash beside it (alliance.protect); it is only
ever shown masked. Images are uploads of the applicant (private: served by signed URL).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.accounts.models import User
from alliance.checks import text
from alliance.clock import to_local_iso
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, Conflict, ValidationFailed
from alliance.media.services import owned_upload, signed_path
from alliance.merchants.identifiers import (mask_id_number, normalize_credit_code,
                                            normalize_id_number)
from alliance.merchants.industries import INDUSTRIES, industry_name
from alliance.merchants.models import Merchant, MerchantStatusChange, StaffMembership
from alliance.merchants.queries import forget_merchant_detail, get_merchant
from alliance.protect import FieldProtector

ID_CONTEXT = "legal_rep_id"
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
RESUBMITTABLE = ("pending", "rejected")


class CreditCodeTaken(Conflict):
    code = "CREDIT_CODE_TAKEN"
    message = "该统一社会信用代码已提交过入驻申请"


class ApplicationLocked(AllianceError):
    code = "APPLICATION_NOT_EDITABLE"
    http_status = 409
    message = "申请已通过审核或已暂停，不能再修改"


@dataclass(frozen=True)
class Application:
    """What an applicant fills in (upload fields are ids of their own uploads)."""

    name: str
    company_name: str
    credit_code: str
    industry: str
    legal_rep_name: str
    legal_rep_id_number: str
    licence_upload: str
    id_front_upload: str
    id_back_upload: str
    contact_phone: str
    intro: str = ""


def _columns(protector: FieldProtector, user_id: int, form: Application) -> dict:
    """The merchant columns for a checked application (raises naming the bad field)."""
    if form.industry not in INDUSTRIES:
        raise ValidationFailed("行业不存在", details={"field": "industry",
                                                     "choices": list(INDUSTRIES)})
    if not _PHONE.match(form.contact_phone):
        raise ValidationFailed("联系电话格式不正确", details={"field": "contact_phone"})
    id_number = normalize_id_number(form.legal_rep_id_number)
    return dict(
        name=form.name, company_name=form.company_name, intro=form.intro,
        credit_code=normalize_credit_code(form.credit_code), industry=form.industry,
        legal_rep_name=form.legal_rep_name,
        legal_rep_id_cipher=protector.encrypt(id_number, ID_CONTEXT),
        legal_rep_id_hash=protector.lookup_hash(id_number, ID_CONTEXT),
        legal_rep_id_masked=mask_id_number(id_number),
        licence_upload=owned_upload(user_id, form.licence_upload, ("licence",), "licence_upload"),
        id_front_upload=owned_upload(user_id, form.id_front_upload, ("id_card",),
                                     "id_front_upload"),
        id_back_upload=owned_upload(user_id, form.id_back_upload, ("id_card",), "id_back_upload"),
        contact_phone=form.contact_phone)


def submit_application(protector: FieldProtector, user_id: int, form: Application) -> Merchant:
    """Apply to join the alliance: a pending merchant owned by the applicant."""
    columns = _columns(protector, user_id, form)
    try:
        with transaction():
            if Merchant.select().where(Merchant.credit_code == columns["credit_code"]).exists():
                raise CreditCodeTaken(details={"field": "credit_code"})
            merchant = Merchant.create(owner=user_id, status="pending", **columns)
            StaffMembership.create(merchant=merchant, user=user_id, role="merchant_owner")
            MerchantStatusChange.create(merchant=merchant, from_status=None, to_status="pending",
                                        actor_kind="user", actor_id=user_id, reason="提交入驻申请")
            return merchant
    except IntegrityError:  # a concurrent application with the same code won
        raise CreditCodeTaken(details={"field": "credit_code"}) from None


def resubmit_application(protector: FieldProtector, merchant_id: int, user_id: int,
                         form: Application) -> Merchant:
    """Correct a pending or rejected application; it goes back to the audit queue."""
    columns = _columns(protector, user_id, form)
    try:
        with transaction():
            merchant = get_merchant(merchant_id)
            clash = (Merchant.select().where(Merchant.credit_code == columns["credit_code"],
                                             Merchant.id != merchant_id).exists())
            if clash:
                raise CreditCodeTaken(details={"field": "credit_code"})
            now = utcnow()
            changed = (Merchant.update(status="pending", status_reason="", submitted_at=now,
                                       updated_at=now, **columns)
                       .where(Merchant.id == merchant_id, Merchant.status.in_(RESUBMITTABLE))
                       .execute())
            if changed != 1:
                raise ApplicationLocked(details={"status": merchant.status})
            MerchantStatusChange.create(merchant=merchant_id, from_status=merchant.status,
                                        to_status="pending", actor_kind="user",
                                        actor_id=user_id, reason="修改后重新提交")
            return get_merchant(merchant_id)
    except IntegrityError:
        raise CreditCodeTaken(details={"field": "credit_code"}) from None


def update_profile(merchant_id: int, changes: dict) -> Merchant:
    """Change what the merchant may change without a new audit: introduction, contact phone."""
    values = {}
    if "intro" in changes:
        values["intro"] = text(changes["intro"], "intro", 2000)
    if "contact_phone" in changes:
        phone = text(changes["contact_phone"], "contact_phone", 20, True)
        if not _PHONE.match(phone):
            raise ValidationFailed("联系电话格式不正确", details={"field": "contact_phone"})
        values["contact_phone"] = phone
    with transaction():
        if values:
            (Merchant.update(updated_at=utcnow(), **values)
             .where(Merchant.id == merchant_id).execute())
            forget_merchant_detail(merchant_id)
        return get_merchant(merchant_id)


def status_history(merchant_id: int) -> list[dict]:
    """Every status change of the merchant, oldest first."""
    changes = (MerchantStatusChange.select().where(MerchantStatusChange.merchant == merchant_id)
               .order_by(MerchantStatusChange.id))
    return [{"from_status": c.from_status, "to_status": c.to_status,
             "actor_kind": c.actor_kind, "actor_id": c.actor_id, "reason": c.reason,
             "at": to_local_iso(c.created_at)} for c in changes]


def application_view(merchant: Merchant, secret: str) -> dict:
    """The application as its owner and operators see it: the ID number masked, the images
    as signed links valid for five minutes."""
    owner = User.get_by_id(merchant.owner_id)
    return {
        "merchant_id": merchant.id, "name": merchant.name, "company_name": merchant.company_name,
        "credit_code": merchant.credit_code, "industry": merchant.industry,
        "industry_name": industry_name(merchant.industry), "intro": merchant.intro,
        "legal_rep_name": merchant.legal_rep_name,
        "legal_rep_id_number": merchant.legal_rep_id_masked,
        "contact_phone": merchant.contact_phone,
        "owner": {"id": owner.id, "nickname": owner.nickname},
        "images": {field: signed_path(secret, getattr(merchant, field))
                   for field in ("licence_upload", "id_front_upload", "id_back_upload")},
        "status": merchant.status, "status_reason": merchant.status_reason,
        "submitted_at": to_local_iso(merchant.submitted_at),
        "reviewed_at": to_local_iso(merchant.reviewed_at),
        "history": status_history(merchant.id),
    }
