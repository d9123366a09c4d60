"""What operators read about merchants: the filtered list, one merchant in full, statistics."""
from __future__ import annotations

from peewee import fn

from alliance.clock import to_local_iso
from alliance.errors import ValidationFailed
from alliance.merchants.applications import application_view
from alliance.merchants.industries import INDUSTRIES, industry_name
from alliance.merchants.models import MERCHANT_STATUSES, Merchant, Shop, StaffMembership
from alliance.merchants.queries import get_merchant
from alliance.merchants.shops import staff_shop_view
from alliance.merchants.views import rating
from alliance.paging import newest_first


def operator_row(merchant: Merchant) -> dict:
    """A merchant in the operators' list."""
    return {"id": merchant.id, "name": merchant.name, "company_name": merchant.company_name,
            "credit_code": merchant.credit_code, "industry": merchant.industry,
            "industry_name": industry_name(merchant.industry), "status": merchant.status,
            "status_reason": merchant.status_reason, "owner_id": merchant.owner_id,
            "rating": rating(merchant), "popularity": merchant.popularity,
            "sales_count": merchant.sales_count, "sales_fen": merchant.sales_fen,
            "commission_bp": merchant.commission_bp,
            "submitted_at": to_local_iso(merchant.submitted_at),
            "reviewed_at": to_local_iso(merchant.reviewed_at)}


def list_for_operators(*, status: str | None = None, industry: str | None = None,
                       q: str | None = None, cursor: str | None = None, limit: int = 20) -> dict:
    """Merchants newest first, by status, industry, and name, company or credit code."""
    query = Merchant.select()
    if status is not None:
        if status not in MERCHANT_STATUSES:
            raise ValidationFailed("状态不正确", details={"field": "status",
                                                       "choices": list(MERCHANT_STATUSES)})
        query = query.where(Merchant.status == status)
    if industry is not None:
        if industry not in INDUSTRIES:
            raise ValidationFailed("行业不存在", details={"field": "industry",
                                                         "choices": list(INDUSTRIES)})
        query = query.where(Merchant.industry == industry)
    if q:
        query = query.where(Merchant.name.contains(q) | Merchant.company_name.contains(q)
                            | (Merchant.credit_code == q.upper()))
    rows, next_cursor = newest_first(query, Merchant.id, cursor, limit)
    return {"items": [operator_row(m) for m in rows], "next_cursor": next_cursor}


def operator_detail(merchant_id: int, secret: str) -> dict:
    """One merchant for operators: the application (ID masked), shops, staff, and the other
    merchants whose legal representative has the same ID number."""
    merchant = get_merchant(merchant_id)
    shops = Shop.select().where(Shop.merchant == merchant_id).order_by(Shop.id)
    staff = (StaffMembership.select(StaffMembership.role, fn.COUNT(StaffMembership.id))
             .where(StaffMembership.merchant == merchant_id, StaffMembership.status == "active")
             .group_by(StaffMembership.role).tuples())
    same_person = (Merchant.select(Merchant.id)
                   .where(Merchant.legal_rep_id_hash == merchant.legal_rep_id_hash,
                          Merchant.id != merchant_id).order_by(Merchant.id))
    return {**operator_row(merchant), "application": application_view(merchant, secret),
            "shops": [staff_shop_view(s) for s in shops], "staff_count": dict(staff),
            "same_legal_rep_merchant_ids": [m.id for m in same_person]}


def merchant_statistics(ranking_limit: int = 10) -> dict:
    """Merchant counts by industry and by status, and the sales ranking of approved merchants
    (sales counted by ``aggregates.record_sale`` when an order is paid, less its refunds,
    shipping included)."""
    pairs = (Merchant.select(Merchant.industry, Merchant.status, fn.COUNT(Merchant.id))
             .group_by(Merchant.industry, Merchant.status).tuples())
    by_industry: dict[str, dict] = {}
    by_status = {status: 0 for status in MERCHANT_STATUSES}
    for industry, status, count in pairs:
        entry = by_industry.setdefault(industry, {
            "industry": industry, "industry_name": industry_name(industry), "count": 0,
            "by_status": {s: 0 for s in MERCHANT_STATUSES}})
        entry["count"] += count
        entry["by_status"][status] = count
        by_status[status] = by_status.get(status, 0) + count
    ranking = (Merchant.select().where(Merchant.status == "approved")
               .order_by(Merchant.sales_fen.desc(), Merchant.id).limit(ranking_limit))
    return {
        "total": sum(by_status.values()),
        "by_status": [{"status": s, "count": c} for s, c in by_status.items()],
        "by_industry": sorted(by_industry.values(), key=lambda e: (-e["count"], e["industry"])),
        "sales_ranking": [{"rank": n, "merchant_id": m.id, "name": m.name,
                           "industry": m.industry, "sales_fen": m.sales_fen,
                           "sales_count": m.sales_count}
                          for n, m in enumerate(ranking, start=1)],
    }
