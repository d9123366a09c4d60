"""The jobs that call into the domains do their work once per slot."""
import datetime as dt

from alliance.coupons.claims import claim
from alliance.coupons.models import Coupon
from alliance.db import transaction, utcnow
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from scheduler import jobs
from scheduler.registry import JOBS
from server.app import build_context
from tests.support import make_settings


def _ctx(database):
    return build_context(make_settings(database))


def test_domain_jobs_are_registered():
    names = set(JOBS.names())
    assert {"notifications.deliver_outbox", "coupons.expire", "payments.dispatch_pending"} <= names


def test_coupon_expiry_job_marks_past_coupons_expired(database):
    from tests.factories import make_merchant, make_template

    merchant = make_merchant()
    template = make_template(merchant)
    user_id = merchant.owner_id
    coupon = claim(template.id, user_id)
    Coupon.update(valid_until=utcnow() - dt.timedelta(days=1)).where(Coupon.id == coupon.id).execute()
    assert jobs.expire_coupons(_ctx(database)) == {"expired": 1}
    assert Coupon.get_by_id(coupon.id).status == "expired"


def test_outbox_job_sends_pending_messages_through_wechat(database):
    with transaction():
        OutboxNotifier().notify("merchant.audit_result", user_id=1, data={
            "merchant_name": "面馆", "result": "approved"}, dedupe_key="x")
    report = jobs.deliver_outbox(_ctx(database))
    # User 1 has no WeChat identity here: the message fails permanently, once, not retried.
    assert report["sent"] + report["failed"] == 1
    assert OutboxMessage.get().status in ("sent", "failed")
