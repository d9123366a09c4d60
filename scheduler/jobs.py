"""The platform's recurring work: each job is one thin function over the domain's services.

A job takes the server's AppContext (settings and the adapters chosen once in
``server/app.py``), does everything that is due now, and returns counts of what it did. It
must be idempotent: a slot whose holder died is run again. Register one with one line:
``@job("domain.action", every=timedelta(...))`` or ``cron="M H DOM MON DOW"`` (README:
"Adding a job").
"""
from __future__ import annotations

import datetime as dt

from alliance.analytics import rollups
from alliance.backups import services as backups
from alliance.campaigns import group_expiry
from alliance.cooperation import services as cooperation
from alliance.coupons import claims as coupon_claims
from alliance.coupons import reminders as coupon_reminders
from alliance.db import utcnow
from alliance.infra import idempotency, kv, localcache, ratelimit
from alliance.jobs import services as job_services
from alliance.media import purge as media_purge
from alliance.members import member_code
from alliance.models import UPLOAD_REFERENCES
from alliance.notifications import delivery
from alliance.orders import fulfilment, lifecycle
from alliance.orders import payments as order_payments
from alliance.orders import refunds as order_refunds
from alliance.payments import notices as payment_notices
from alliance.points import services as points
from alliance.pushes import platform as platform_pushes
from alliance.settlement import statements as settlement
from alliance.settlement.periods import period_containing
from scheduler.registry import JOBS, job
from server.context import AppContext
from wechat_handlers import api as wechat_api

__all__ = ["JOBS"]

POINTS_EXPIRY_BATCH = 500
OUTBOX_BATCH = 200
# A sweep goes on while full batches keep coming, for well under its 2 minutes' lease: a
# promotion to 100,000 consumers was 200 messages every 10 s, one at a time (over 80 minutes).
OUTBOX_SWEEP_S = 45.0
UNREFERENCED_UPLOAD_AGE = dt.timedelta(days=30)


@job("infra.purge_idempotency", every=dt.timedelta(hours=1))
def purge_idempotency(ctx: AppContext) -> dict:
    """Delete idempotency records older than 24 h."""
    return {"deleted": idempotency.purge_expired()}


@job("infra.purge_rate_counters", every=dt.timedelta(minutes=10))
def purge_rate_counters(ctx: AppContext) -> dict:
    """Delete the rate-limit counters of windows that have ended."""
    return {"deleted": ratelimit.purge_expired()}


@job("infra.purge_key_values", every=dt.timedelta(minutes=30))
def purge_key_values(ctx: AppContext) -> dict:
    """Delete shared key-values whose expiry has passed."""
    return {"deleted": kv.purge_expired()}


@job("infra.purge_cache_invalidations", every=dt.timedelta(minutes=30))
def purge_cache_invalidations(ctx: AppContext) -> dict:
    """Delete cache invalidations every server process read long ago (older than 1 h)."""
    return {"deleted": localcache.purge_invalidations()}


@job("members.purge_used_codes", every=dt.timedelta(hours=1))
def purge_used_member_codes(ctx: AppContext) -> dict:
    """Forget the nonces of scanned member codes that have expired."""
    return {"deleted": member_code.purge_used()}


@job("points.expire", every=dt.timedelta(minutes=10))
def expire_points(ctx: AppContext) -> dict:
    """Expire what is left of points lots past their date (each lot in its own transaction)."""
    return {"expired": points.expire_due(batch=POINTS_EXPIRY_BATCH)}


@job("media.purge_unreferenced", cron="45 3 * * *", lease=dt.timedelta(hours=1))
def purge_unreferenced_uploads(ctx: AppContext) -> dict:
    """Delete images uploaded more than 30 days ago that nothing uses (never attached, or replaced)."""
    return {"deleted": media_purge.purge_unreferenced(ctx.storage, UPLOAD_REFERENCES,
                                                      UNREFERENCED_UPLOAD_AGE)}


@job("backups.daily", cron="30 2 * * *", lease=dt.timedelta(hours=6))
def daily_backup(ctx: AppContext) -> dict:
    """Back up every table and the uploads into BACKUP_DIR, then keep the newest BACKUP_KEEP."""
    settings = ctx.settings
    return backups.scheduled(settings.backup_dir, settings.var_dir / "uploads",
                             settings.backup_keep)


@job("jobs.purge_runs", cron="15 3 * * *")
def purge_job_runs(ctx: AppContext) -> dict:
    """Delete job runs older than SCHEDULER_RUN_RETENTION_DAYS."""
    retention = dt.timedelta(days=ctx.settings.scheduler_run_retention_days)
    return {"deleted": job_services.purge_runs(retention)}


@job("wechat.refresh_access_token", every=dt.timedelta(minutes=2), lease=dt.timedelta(minutes=1))
def refresh_wechat_access_tokens(ctx: AppContext) -> dict:
    """Refresh each WeChat app's shared access token before it expires."""
    margin = ctx.settings.wechat_token_refresh_margin_s
    return {"refreshed": wechat_api.refresh_tokens(ctx.extras["wechat_clients"], margin)}


@job("notifications.deliver_outbox", every=dt.timedelta(seconds=10), lease=dt.timedelta(minutes=2))
def deliver_outbox(ctx: AppContext) -> dict:
    """Send due outbox messages: those the server's after-commit attempt did not finish, and
    the bulk sends (merchants' pushes, the platform's promotions), on the delivery threads,
    batch after batch for up to ``OUTBOX_SWEEP_S``."""
    report = delivery.deliver_due(ctx.outbox_channels, batch=OUTBOX_BATCH,
                                  executor=ctx.delivery_executor, budget_s=OUTBOX_SWEEP_S)
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


@job("pushes.platform_batches", every=dt.timedelta(minutes=1))
def send_platform_promotions(ctx: AppContext) -> dict:
    """Queue the next batches of the platform's campaign promotions still sending."""
    return platform_pushes.send_batches(ctx.extras["bulk_notifier"])


@job("coupons.expire", every=dt.timedelta(minutes=5))
def expire_coupons(ctx: AppContext) -> dict:
    """Mark unused coupons past their validity expired."""
    return {"expired": coupon_claims.expire_coupons()}


@job("payments.dispatch_pending", every=dt.timedelta(minutes=1))
def dispatch_pending_payment_notices(ctx: AppContext) -> dict:
    """Apply verified payment notices that no handler has applied yet."""
    return {"applied": payment_notices.dispatch_pending()}


@job("orders.close_unpaid", every=dt.timedelta(minutes=1))
def close_unpaid_orders(ctx: AppContext) -> dict:
    """Close orders unpaid at their deadline, giving back stock, points and coupons."""
    return lifecycle.close_unpaid_orders(ctx.extras["orders"])


@job("campaigns.fail_expired_groups", every=dt.timedelta(minutes=1))
def fail_expired_groups(ctx: AppContext) -> dict:
    """Fail the group buys' groups that did not fill by their deadline: refund their paid
    orders in full, cancel their unpaid ones."""
    return group_expiry.fail_expired_groups(ctx.extras["orders"])


@job("payments.reconcile", every=dt.timedelta(minutes=2))
def reconcile_payments(ctx: AppContext) -> dict:
    """Ask the providers about open trades whose notification never came, and apply it."""
    return order_payments.reconcile_pending_payments(ctx.extras["orders"])


@job("refunds.refresh", every=dt.timedelta(minutes=2))
def refresh_refunds(ctx: AppContext) -> dict:
    """Submit refunds the provider did not take; query those stuck in processing."""
    return order_refunds.refresh_refunds(ctx.extras["orders"])


@job("orders.complete_delivered", every=dt.timedelta(hours=1))
def complete_delivered_orders(ctx: AppContext) -> dict:
    """Complete goods shipped long ago whose buyer never confirmed receipt."""
    return {"completed": fulfilment.complete_delivered_orders()}


@job("analytics.daily_sales", cron="30 0 * * *")
def finish_daily_sales(ctx: AppContext) -> dict:
    """Rebuild yesterday's daily sales of every merchant (today's, late refunds and payments)."""
    return rollups.refresh_daily_sales()


@job("analytics.daily_sales_today", every=dt.timedelta(hours=1))
def refresh_daily_sales(ctx: AppContext) -> dict:
    """Refresh today's daily sales of every merchant (yesterday's, late refunds and payments)."""
    return rollups.refresh_daily_sales()


@job("coupons.notify_expiring", every=dt.timedelta(hours=1))
def notify_expiring_coupons(ctx: AppContext) -> dict:
    """Remind holders of coupons expiring within a day (once per coupon)."""
    return {"notified": coupon_reminders.notify_expiring_coupons(ctx.notifier)}


@job("cooperation.end_expired", every=dt.timedelta(minutes=10))
def end_expired_cooperations(ctx: AppContext) -> dict:
    """End the accepted cooperations whose agreed end time has come (and their coupon
    distributions), and close the proposals left unanswered past it as expired, telling
    both sides of each."""
    return {"ended": cooperation.end_expired(ctx.notifier),
            "expired": cooperation.expire_proposals(ctx.notifier)}


@job("settlement.close_month", cron="0 3 1 * *", lease=dt.timedelta(hours=2))
def close_settlement_month(ctx: AppContext) -> dict:
    """Issue last month's statements (Asia/Shanghai) of every merchant with events not yet
    counted; a run again, or a catch-up, issues none twice."""
    closed = settlement.close_period(period_containing(utcnow()).previous().name)
    return {key: value for key, value in closed.items() if key != "period"}
