"""One WeChat access token for every process: the scheduler keeps it fresh, servers read it."""
import datetime as dt
import os
import threading
import time
import uuid

import pytest

from alliance.db import connection, transaction, utcnow
from alliance.jobs.models import JobLease, JobRun
from sandbox.models import SandboxAccessToken
from scheduler.jobs import JOBS
from scheduler.runner import Scheduler
from tests.support import ApiTestCase
from wechat_handlers.messages import WechatMessageSender


class SharedTokenTest(ApiTestCase):
    @property
    def clients(self):
        return self.app.settings["ctx"].extras["wechat_clients"]

    def _issued(self) -> int:
        with connection():
            return SandboxAccessToken.select().count()

    def _run_refresh_job(self) -> str:
        scheduler = Scheduler(self.app.settings["ctx"], JOBS, holder="scheduler-1")
        spec = next(s for s in scheduler.specs if s.name == "wechat.refresh_access_token")
        return self.run_blocking(scheduler.run_slot, spec)

    def _last_run(self) -> JobRun:
        with connection():
            return (JobRun.select().where(JobRun.job == "wechat.refresh_access_token")
                    .order_by(JobRun.id.desc()).get())

    def test_refresh_job_stores_tokens_that_servers_use_without_fetching(self):
        assert self._run_refresh_job() == "ok"
        assert self._last_run().counts == '{"refreshed": 2}'
        assert self._issued() == 2  # the mini-program's and the official account's
        for name in ("alice", "bob", "carol"):
            self.login(name)
        assert self._issued() == 2
        miniapp = self.clients["miniapp"]
        assert 7000 < self.run_blocking(miniapp.token_ttl) <= 7140

    def test_fresh_tokens_are_not_refetched_by_the_next_run(self):
        self._run_refresh_job()
        token = self.run_blocking(lambda: self.clients["miniapp"].access_token)
        with transaction():  # as if the next slot came
            JobLease.update(done_slot=dt.datetime(2000, 1, 1)).execute()
        assert self._run_refresh_job() == "ok"
        assert self._last_run().counts == '{"refreshed": 0}'
        assert self.run_blocking(lambda: self.clients["miniapp"].access_token) == token

    def test_expiring_token_is_replaced_with_the_stable_hand_over(self):
        miniapp = self.clients["miniapp"]
        old = self.run_blocking(lambda: miniapp.access_token)
        # Outside WeChat's last 5 minutes, stable_token answers the same token.
        assert self.run_blocking(miniapp.refresh_if_expiring, 10_000) is True
        assert self.run_blocking(lambda: miniapp.access_token) == old and self._issued() == 1
        # Two hours on: 200 s left at WeChat, 140 s in the storage.
        with transaction():
            (SandboxAccessToken.update(expires_at=utcnow() + dt.timedelta(seconds=200))
             .where(SandboxAccessToken.token == old).execute())
        with connection():
            miniapp.session.set(miniapp.access_token_key, old, 140)
            miniapp.session.set(miniapp.access_token_expiry_key, int(time.time()) + 140, 140)
        assert self.run_blocking(miniapp.refresh_if_expiring, 900) is True
        new = self.run_blocking(lambda: miniapp.access_token)
        assert new != old and self._issued() == 2
        assert self.run_blocking(miniapp.token_ttl) > 7000

    def test_a_process_keeps_the_token_it_read_for_a_while(self):
        miniapp = self.clients["miniapp"]
        token = self.run_blocking(lambda: miniapp.access_token)
        reads = []
        storage_get = miniapp.session.get
        miniapp.session.get = lambda key, default=None: reads.append(key) or storage_get(key, default)
        try:
            for _ in range(3):
                assert self.run_blocking(lambda: miniapp.access_token) == token
            assert reads == []  # one storage read per TOKEN_MEMO_S, not one per message
            miniapp._kept = (token, time.monotonic() - 1)  # TOKEN_MEMO_S later
            with connection():
                miniapp.session.set(miniapp.access_token_key, "replaced-elsewhere", 600)
            assert self.run_blocking(lambda: miniapp.access_token) == "replaced-elsewhere"
            assert reads == [miniapp.access_token_key]
        finally:
            miniapp.session.get = storage_get

    def test_a_kept_token_that_wechat_refuses_is_fetched_again_and_replaced(self):
        miniapp = self.clients["miniapp"]
        good = self.run_blocking(lambda: miniapp.access_token)
        miniapp._kept = ("revoked-token", time.monotonic() + 600)
        sender = WechatMessageSender(miniapp, self.clients["official_account"], miniapp.appid)
        self.run_blocking(sender.send_subscribe, "o-anyone", "tpl-1", {"thing1": "到账"}, None)
        assert miniapp._kept[0] == good  # WeChat answered 40001, wechatpy fetched and retried
        assert self.run_blocking(lambda: miniapp.access_token) == good

    def test_empty_storage_is_filled_by_one_fetch_per_process(self):
        miniapp, tokens, barrier = self.clients["miniapp"], [], threading.Barrier(8)

        def read():
            barrier.wait()
            with connection():
                tokens.append(miniapp.access_token)

        def race():
            threads = [threading.Thread(target=read) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        self.run_blocking(race)
        assert len(tokens) == 8 and len(set(tokens)) == 1
        assert self._issued() == 1

    def test_refresh_failure_of_one_app_is_recorded_after_the_others_refresh(self):
        response = self.api("POST", "/_sandbox/wechat/_control/faults",
                            {"api": "token", "errcode": -1})
        assert response.status == 201
        assert self._run_refresh_job() == "failed"
        run = self._last_run()
        assert run.outcome == "failed" and "refreshed 1" in run.error and "failed: " in run.error
        settings = self.settings
        assert settings.wechat_miniapp_secret not in run.error
        assert settings.wechat_oa_secret not in run.error
        assert self._issued() == 1


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
class SharedTokenInRedisTest(SharedTokenTest):
    """The same behaviour with the token in Redis (REDIS_URL), under apps of this test alone."""

    def setUp(self):
        tag = uuid.uuid4().hex[:12]
        self.env = {"REDIS_URL": os.environ["TEST_REDIS_URL"],
                    "WECHAT_MINIAPP_APPID": f"wxmini{tag}", "WECHAT_OA_APPID": f"wxoa{tag}"}
        super().setUp()

    def tearDown(self):
        for client in self.clients.values():
            client.session.delete(client.access_token_key)
            client.session.delete(client.access_token_expiry_key)
        super().tearDown()
