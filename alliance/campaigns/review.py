"""Operators' review of what merchants submit: a merchant's own campaign, and a merchant's
join of a platform campaign. Each decision is one guarded UPDATE of a pending row (of two
operators deciding at once, one decides), audited, and told to the merchant's owner
(``campaign.audit_result``) in the same transaction.
"""
from __future__ import annotations

import datetime as dt

from alliance.accounts.operators import record_audit
from alliance.campaigns.errors import (CampaignNotFound, CampaignParticipantNotFound,
                                       CampaignStateConflict)
from alliance.campaigns.models import APPROVED, PENDING, REJECTED, Campaign, CampaignParticipant
from alliance.campaigns.pricing import forget_running
from alliance.campaigns.services import FIELDS, campaign_changed, get_campaign
from alliance.db import transaction, utcnow
from alliance.merchants.models import Merchant
from alliance.merchants.queries import forget_merchant_detail
from alliance.ports import Notifier

SUBJECT_TEXT = {"campaign": "活动申请", "join": "活动报名"}


def _decision(body: dict) -> tuple[str, str]:
    decision = body.get("decision") if isinstance(body, dict) else None
    if decision not in ("approve", "reject"):
        raise FIELDS.invalid("decision", "choice", choices=["approve", "reject"])
    reason = body.get("reason")
    if decision == "reject":
        reason = FIELDS.text(body, "reason", 200, True)
    return (APPROVED if decision == "approve" else REJECTED), reason or ""


def _tell(notifier: Notifier, campaign: Campaign, merchant_id: int, subject: str, status: str,
          reason: str) -> None:
    """The merchant's owner learns the decision on its campaign or its join."""
    owner_id = Merchant.select(Merchant.owner).where(Merchant.id == merchant_id).scalar()
    data = {"campaign_id": campaign.id, "campaign_name": campaign.name,
            "merchant_id": merchant_id, "subject": subject,
            "subject_text": SUBJECT_TEXT[subject], "result": status}
    if reason:
        data["reason"] = reason
    notifier.notify("campaign.audit_result", user_id=owner_id, data=data)


def review_campaign(notifier: Notifier, campaign_id: int, operator_id: int, body: dict,
                    now: dt.datetime | None = None) -> Campaign:
    """An operator approves or rejects (with a reason) a merchant's pending campaign. Audited;
    the merchant's owner is told."""
    now = now or utcnow()
    status, reason = _decision(body)
    with transaction():
        campaign = Campaign.get_or_none(Campaign.id == campaign_id)
        if campaign is None or campaign.merchant_id is None:
            raise CampaignNotFound(details={"campaign_id": campaign_id})
        moved = (Campaign.update(status=status, reason=reason, reviewed_by=operator_id,
                                 reviewed_at=now, updated_at=now)
                 .where(Campaign.id == campaign.id, Campaign.status == PENDING).execute())
        if not moved:
            raise CampaignStateConflict(details={"status": campaign.status})
        record_audit(operator_id, f"campaign.{'approve' if status == APPROVED else 'reject'}",
                     "campaign", campaign.id, reason=reason)
        campaign_changed(campaign)
        _tell(notifier, campaign, campaign.merchant_id, "campaign", status, reason)
        return Campaign.get_by_id(campaign.id)


def review_participant(notifier: Notifier, campaign_id: int, merchant_id: int,
                       operator_id: int, body: dict,
                       now: dt.datetime | None = None) -> CampaignParticipant:
    """An operator approves or rejects (with a reason) a merchant's pending join. Audited;
    the merchant's owner is told."""
    now = now or utcnow()
    status, reason = _decision(body)
    with transaction():
        campaign = get_campaign(campaign_id, platform=True)
        participant = CampaignParticipant.get_or_none(
            CampaignParticipant.campaign == campaign_id,
            CampaignParticipant.merchant_id == merchant_id)
        if participant is None:
            raise CampaignParticipantNotFound(details={"campaign_id": campaign_id,
                                                       "merchant_id": merchant_id})
        moved = (CampaignParticipant.update(status=status, reason=reason,
                                            reviewed_by=operator_id, reviewed_at=now)
                 .where(CampaignParticipant.id == participant.id,
                        CampaignParticipant.status == PENDING).execute())
        if not moved:
            raise CampaignStateConflict(details={"status": participant.status})
        record_audit(operator_id, f"campaign.join.{'approve' if status == APPROVED else 'reject'}",
                     "campaign", campaign_id, reason=reason, details={"merchant_id": merchant_id})
        forget_running()
        forget_merchant_detail(merchant_id)
        _tell(notifier, campaign, merchant_id, "join", status, reason)
        return CampaignParticipant.get_by_id(participant.id)
