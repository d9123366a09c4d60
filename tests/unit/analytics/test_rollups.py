"""Daily sales rollups: a day's figures per merchant, rebuilt idempotently, late refunds and
late payments found."""
import datetime as dt
import itertools

from alliance.analytics import rollups
from alliance.analytics.models import MerchantDailySales
from alliance.db import connection, transaction
from alliance.infra import kv
from alliance.orders.models import Order, OrderLine, PaymentAttempt, Refund
from tests.concurrency import run_at_once
from tests.factories import make_merchant, make_user

DAY = dt.date(2026, 11, 20)
_numbers = itertools.count(1)


def utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """Naive UTC of ``hour:minute`` Asia/Shanghai on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute)) - dt.timedelta(hours=8)


def order(merchant, *, paid_at, total=10_000, discount=1_000, units=(2,), status="paid"):
    """An order of ``merchant`` paid at ``paid_at`` (None: unpaid), one line per unit count."""
    number = next(_numbers)
    row = Order.create(order_no=f"T{number:019d}", user=make_user(), merchant=merchant,
                       kind="goods", status=status, items_fen=total, total_fen=total,
                       discount_fen=discount, payable_fen=total - discount,
                       paid_fen=total - discount if paid_at else 0, paid_at=paid_at,
                       expires_at=utc(DAY, 0))
    for n, quantity in enumerate(units):
        OrderLine.create(order=row, item_id=n + 1, kind="goods", name="面", unit_price_fen=100,
                         quantity=quantity, amount_fen=100 * quantity,
                         payable_fen=100 * quantity)
    return row


def refund(of: Order, amount: int, finished_at, *, kind="merchant", status="succeeded"):
    attempt = PaymentAttempt.get_or_none(PaymentAttempt.order == of) or PaymentAttempt.create(
        order=of, seq=1, channel="wechatpay", out_trade_no=f"{of.order_no}P01",
        amount_fen=of.paid_fen, status="paid")
    seq = Refund.select().where(Refund.order == of).count() + 1
    return Refund.create(order=of, attempt=attempt, seq=seq, kind=kind, amount_fen=amount,
                         out_refund_no=f"{of.order_no}R{seq:02d}", status=status,
                         finished_at=finished_at)


def rows(day=DAY) -> dict[int, tuple]:
    with connection():
        return {row.merchant_id: (row.orders_paid, row.gross_fen, row.discount_fen,
                                  row.refunds_fen, row.net_fen, row.units)
                for row in MerchantDailySales.select().where(MerchantDailySales.day == day)}


def test_rebuild_day_sums_each_merchants_paid_orders_and_refunds(database):
    with transaction():
        noodles, cinema, idle = make_merchant(), make_merchant(), make_merchant()
        order(noodles, paid_at=utc(DAY, 0, 0), units=(2, 3))  # the first minute of the day
        late = order(noodles, paid_at=utc(DAY, 23, 59), total=5_000, discount=0, units=(1,))
        order(noodles, paid_at=utc(DAY + dt.timedelta(days=1), 0, 0))  # the next day
        order(noodles, paid_at=None, status="cancelled")
        older = order(cinema, paid_at=utc(DAY - dt.timedelta(days=3), 12), total=8_000)
        refund(older, 2_500, utc(DAY, 9))  # counts on the day it succeeded
        refund(older, 700, utc(DAY, 10), status="processing")
        refund(late, 5_000, utc(DAY, 23, 59), kind="stray_payment")
        order(idle, paid_at=utc(DAY - dt.timedelta(days=1), 12))
    with connection():
        assert rollups.rebuild_day(DAY) == 2
    assert rows() == {noodles.id: (2, 15_000, 1_000, 0, 14_000, 6),
                      cinema.id: (0, 0, 0, 2_500, -2_500, 0)}


def test_rebuilding_a_day_twice_gives_the_same_rows(database):
    with transaction():
        merchant = make_merchant()
        order(merchant, paid_at=utc(DAY, 12))
    with connection():
        rollups.rebuild_day(DAY)
        first = rows()
        rollups.rebuild_day(DAY)
        assert MerchantDailySales.select().count() == 1
    assert rows() == first == {merchant.id: (1, 10_000, 1_000, 0, 9_000, 2)}


def test_rebuild_brings_an_existing_row_to_what_the_day_holds(database):
    with transaction():
        merchant = make_merchant()
        paid = order(merchant, paid_at=utc(DAY, 12))
    with connection():
        rollups.rebuild_day(DAY)
        Order.update(paid_at=utc(DAY, 12) + dt.timedelta(days=1)).where(Order.id == paid.id).execute()
        assert rollups.rebuild_day(DAY) == 1
    assert rows() == {merchant.id: (0, 0, 0, 0, 0, 0)}


def test_concurrent_rebuilds_of_one_day_write_one_row_per_merchant(database):
    with transaction():
        merchants = [make_merchant() for _ in range(3)]
        for merchant in merchants:
            order(merchant, paid_at=utc(DAY, 8))

    def rebuild(_):
        with connection():
            return rollups.rebuild_day(DAY)

    assert run_at_once(4, rebuild) == [3] * 4
    assert rows() == {m.id: (1, 10_000, 1_000, 0, 9_000, 2) for m in merchants}


def test_refresh_rebuilds_today_and_yesterday(database):
    now = utc(DAY, 9)
    with transaction():
        merchant = make_merchant()
        order(merchant, paid_at=utc(DAY, 8))
        order(merchant, paid_at=utc(DAY - dt.timedelta(days=1), 22), total=3_000, discount=0)
    with connection():
        kv.put(rollups.BUILT_THROUGH_KEY, (DAY - dt.timedelta(days=1)).isoformat())
        counts = rollups.refresh_daily_sales(now)
        assert counts == {"days": 2, "late_refund_days": 0, "late_payment_days": 0, "rows": 2}
        assert rollups.refresh_daily_sales(now) == counts
    assert rows()[merchant.id][:2] == (1, 10_000)
    assert rows(DAY - dt.timedelta(days=1))[merchant.id][:2] == (1, 3_000)


def test_refresh_reflects_a_late_refund_of_an_older_day(database):
    now, older = utc(DAY, 9), DAY - dt.timedelta(days=5)
    with transaction():
        merchant = make_merchant()
        paid = order(merchant, paid_at=utc(older, 10))
    with connection():
        rollups.refresh_daily_sales(now)
        assert rows(older)[merchant.id][3:5] == (0, 9_000)
        refund(paid, 4_000, utc(older, 20))  # succeeded that evening, recorded only now
        assert rollups.refresh_daily_sales(now)["late_refund_days"] == 1
        assert rows(older)[merchant.id][3:5] == (4_000, 5_000)
        assert rollups.refresh_daily_sales(now)["late_refund_days"] == 0


def test_refresh_reflects_a_late_payment_of_an_older_day(database):
    now, older = utc(DAY, 9), DAY - dt.timedelta(days=3)
    with transaction():
        merchant = make_merchant()
        order(merchant, paid_at=utc(older, 9), total=3_000, discount=0, units=(1,))
        pending = order(merchant, paid_at=None, status="pending_payment")
    with connection():
        rollups.refresh_daily_sales(now)
        assert rows(older)[merchant.id][:2] == (1, 3_000)
        # paid that afternoon by the provider, applied only now (a retried notification)
        Order.update(status="paid", paid_fen=pending.payable_fen, paid_at=utc(older, 15)
                     ).where(Order.id == pending.id).execute()
        counts = rollups.refresh_daily_sales(now)
        assert rows(older)[merchant.id] == (2, 13_000, 1_000, 0, 12_000, 3)
        assert (counts["late_payment_days"], counts["days"]) == (1, 3)
        assert rollups.refresh_daily_sales(now)["late_payment_days"] == 0


def test_refresh_with_nothing_late_rebuilds_no_earlier_day(database):
    first_run, older = utc(DAY, 9), DAY - dt.timedelta(days=4)
    with transaction():
        noodles, cinema = make_merchant(), make_merchant()
        for back in (2, 3, 4):
            order(noodles, paid_at=utc(DAY - dt.timedelta(days=back), 12))
        order(cinema, paid_at=utc(older, 20))
    with connection():
        rollups.refresh_daily_sales(first_run)
        counts = rollups.refresh_daily_sales(first_run + dt.timedelta(hours=1))
        assert counts == {"days": 2, "late_refund_days": 0, "late_payment_days": 0, "rows": 0}
        assert {row.computed_at for row in MerchantDailySales.select()
                .where(MerchantDailySales.day < DAY - dt.timedelta(days=1))} == {first_run}
    assert rows(older) == {noodles.id: (1, 10_000, 1_000, 0, 9_000, 2),
                           cinema.id: (1, 10_000, 1_000, 0, 9_000, 2)}

def test_refresh_builds_the_days_missed_while_the_scheduler_was_down(database):
    now = utc(DAY, 9)
    with transaction():
        merchant = make_merchant()
        for back in (2, 3, 40):
            order(merchant, paid_at=utc(DAY - dt.timedelta(days=back), 12))
    with connection():
        kv.put(rollups.BUILT_THROUGH_KEY, (DAY - dt.timedelta(days=4)).isoformat())
        assert rollups.refresh_daily_sales(now)["days"] == 4  # 3 days back through today
        assert kv.get(rollups.BUILT_THROUGH_KEY) == (DAY - dt.timedelta(days=1)).isoformat()
        kv.delete(rollups.BUILT_THROUGH_KEY)
        assert rollups.refresh_daily_sales(now)["days"] == rollups.LOOKBACK_DAYS + 1
    for back in (2, 3):
        assert rows(DAY - dt.timedelta(days=back))[merchant.id][0] == 1
    assert rows(DAY - dt.timedelta(days=40)) == {}  # beyond the lookback
