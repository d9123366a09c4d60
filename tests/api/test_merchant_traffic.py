"""Views of a merchant's detail page: counted in each process's memory, added to
merchant_daily_traffic by the periodic flush, read back through the insights."""
import datetime as dt

from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from alliance.analytics import traffic
from alliance.analytics.models import MerchantDailyTraffic
from alliance.clock import SHANGHAI
from alliance.db import connection
from server.app import TrafficFlush, flush_traffic_now, make_app, start_traffic_flush
from tests.orders_support import OrderTestCase

INSIGHTS = "/api/v1/merchant/insights"


class TrafficTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.detail = f"/api/v1/merchants/{self.merchant.id}"
        self.today = dt.datetime.now(SHANGHAI).date()

    @property
    def counter(self) -> traffic.ViewCounter:
        return self.extras["views"]

    def view(self, times: int, token: str | None = None, path: str | None = None) -> None:
        for _ in range(times):
            response = self.api("GET", path or self.detail, token=token)
            assert response.status == 200, response.body

    def stored(self) -> dict:
        with connection():
            return {(row.merchant_id, row.day): (row.views, row.signed_in_views)
                    for row in MerchantDailyTraffic.select()}

    def flush_once(self, ctx=None) -> bool:
        """One tick of the flush of ``ctx``'s process (this app's by default), finished:
        whether it added its batch."""
        future = TrafficFlush(ctx or self.app.settings["ctx"]).tick()
        return future is None or future.result(timeout=10)

    def test_views_over_http_are_flushed_and_read_in_the_insights(self):
        self.view(3)
        self.view(2, token=self.token("bob"))
        unknown = self.api("GET", "/api/v1/merchants/999999")
        assert unknown.status == 404  # not counted: no such merchant
        assert self.stored() == {}  # nothing written on the request path
        flusher = start_traffic_flush(self.app.settings["ctx"], every_ms=50)
        try:
            self.wait_for(lambda: self.stored() == {(self.merchant.id, self.today): (5, 2)})
        finally:
            flusher.periodic.stop()

        staff = self.owner_token()
        body = self.api("GET", INSIGHTS, token=staff).json
        assert body["traffic"] == {"views": 5, "signed_in_views": 2, "conversion_rate": 0.0}
        self.paid_order(self.token("carol"))
        body = self.api("GET", INSIGHTS, token=staff).json
        assert body["traffic"]["conversion_rate"] == 0.2  # 1 buyer / 5 views

    def test_flushes_add_up_and_a_lost_flush_loses_only_its_interval(self):
        self.view(4)
        self.flush_once()
        self.view(3)
        self.flush_once()
        assert self.stored() == {(self.merchant.id, self.today): (7, 0)}
        self.view(2)
        # The process dies before its next flush: what it counted since the last one is
        # gone, nothing earlier.
        self.extras["views"] = traffic.ViewCounter()
        self.flush_once()
        assert self.stored() == {(self.merchant.id, self.today): (7, 0)}

    def test_a_failed_flush_is_kept_for_the_next_one(self):
        self.view(3)
        original = traffic.add_views
        traffic.add_views = lambda batch: (_ for _ in ()).throw(RuntimeError("database away"))
        try:
            assert not self.flush_once()
        finally:
            traffic.add_views = original
        self.wait_for(lambda: self.counter.pending_views == 3)  # given back on the loop
        assert self.stored() == {}
        assert self.flush_once()
        assert self.stored() == {(self.merchant.id, self.today): (3, 0)}

    def test_the_shutdown_flush_writes_what_is_pending(self):
        self.view(2)
        assert flush_traffic_now(self.app.settings["ctx"])
        assert self.stored() == {(self.merchant.id, self.today): (2, 0)}

    def test_a_view_counts_on_the_shanghai_day_it_happened(self):
        before_midnight = dt.datetime(2026, 12, 7, 23, 59, 59, tzinfo=SHANGHAI).timestamp()
        moments = iter([before_midnight, before_midnight + 2])
        counter = traffic.ViewCounter(clock=lambda: next(moments))
        counter.count(self.merchant.id, False)
        counter.count(self.merchant.id, True)
        with connection():
            traffic.add_views(counter.take())
        assert self.stored() == {(self.merchant.id, dt.date(2026, 12, 7)): (1, 0),
                                 (self.merchant.id, dt.date(2026, 12, 8)): (1, 1)}

    def test_two_processes_flushes_add_up_on_one_database(self):
        other = make_app(self.settings)  # a second server process's application
        other_ctx = other.settings["ctx"]
        sock, port = bind_unused_port()
        server = HTTPServer(other)
        server.add_sockets([sock])
        try:
            self.view(4)
            for _ in range(6):
                response = self.io_loop.run_sync(lambda: self.http_client.fetch(
                    f"http://127.0.0.1:{port}{self.detail}", raise_error=False))
                assert response.code == 200
            assert self.counter.pending_views == 4
            assert other_ctx.extras["views"].pending_views == 6
            mine = start_traffic_flush(self.app.settings["ctx"], every_ms=20)
            theirs = start_traffic_flush(other_ctx, every_ms=20)
            try:
                self.wait_for(lambda: self.stored().get(
                    (self.merchant.id, self.today)) == (10, 0))
            finally:
                mine.periodic.stop()
                theirs.periodic.stop()
            self.view(1)
            flush_traffic_now(other_ctx)
            self.flush_once()
            assert self.stored() == {(self.merchant.id, self.today): (11, 0)}
        finally:
            server.stop()
            other_ctx.extras["mail_sandbox"].stop()
            other_ctx.shutdown()
