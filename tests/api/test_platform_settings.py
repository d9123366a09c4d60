"""The platform's settings: administrators change them (audited, policies versioned), the
mini-program reads them cheaply, every process forgets them when they change; and the
system's health for operators."""
import http.client
import json
from pathlib import Path

from alliance.accounts.models import OperatorAuditLog
from alliance.db import connection, utcnow
from alliance.jobs.models import JobRun
from alliance.infra.localcache import InvalidationFeed
from alliance.infra.models import CacheInvalidation
from alliance.notifications.models import OutboxMessage
from alliance.payments.models import PaymentNotification
from alliance.platform import settings as platform
from alliance.platform.models import PlatformSettings
from tests.concurrency import run_at_once
from tests.support import ApiTestCase, multipart, png_bytes

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "/api/admin/v1/settings"


class PlatformSettingsTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.admin = self.operator_token("administrator", "root")

    def put(self, body, token: str | None = None):
        return self.api("PUT", SETTINGS, body, token=token or self.admin)

    def audits(self) -> list[dict]:
        with connection():
            return [json.loads(a.details) for a in OperatorAuditLog.select()
                    .where(OperatorAuditLog.action == "settings.update").order_by(OperatorAuditLog.id)]

    def test_defaults_answer_before_any_change(self):
        settings = self.api("GET", SETTINGS, token=self.admin).json
        assert settings["name"] == "异业联盟" and settings["logo_url"] is None
        assert settings["privacy_policy"]["version"] == 1
        assert settings["privacy_policy"]["text"].startswith("隐私政策")
        public = self.api("GET", "/api/v1/platform").json
        assert public == {"name": "异业联盟", "logo_url": None,
                          "contact": {"phone": "", "hours": "每天 09:00-21:00"},
                          "privacy_policy_version": 1, "user_agreement_version": 1}

    def test_change_is_audited_with_before_and_after_and_read_publicly(self):
        assert self.api("GET", "/api/v1/platform").json["name"] == "异业联盟"  # now cached
        response = self.put({"name": "城西联盟", "contact_phone": "400-820-8820",
                             "contact_hours": "09:00-18:00"})
        assert response.status == 200, response.body
        assert response.json["contact"] == {"phone": "400-820-8820", "hours": "09:00-18:00"}
        public = self.api("GET", "/api/v1/platform").json
        assert (public["name"], public["contact"]["phone"]) == ("城西联盟", "400-820-8820")
        [audit] = self.audits()
        assert audit["before"] == {"name": "异业联盟", "contact_phone": "",
                                   "contact_hours": "每天 09:00-21:00"}
        assert audit["after"] == {"name": "城西联盟", "contact_phone": "400-820-8820",
                                  "contact_hours": "09:00-18:00"}
        assert self.put({"name": "城西联盟"}).status == 200
        assert len(self.audits()) == 1  # nothing changed, nothing to audit

    def test_policy_changes_bump_versions_and_keep_old_texts(self):
        original = self.api("GET", "/api/v1/platform/privacy-policy").json
        assert (original["version"], original["kind"]) == (1, "privacy_policy")
        assert self.put({"privacy_policy": "隐私政策 第二版"}).json["privacy_policy"]["version"] == 2
        assert self.put({"privacy_policy": "隐私政策 第二版"}).json["privacy_policy"]["version"] == 2
        assert self.put({"privacy_policy": "隐私政策 第三版\n新增条款"}).status == 200
        current = self.api("GET", "/api/v1/platform/privacy-policy").json
        assert (current["version"], current["text"]) == (3, "隐私政策 第三版\n新增条款")
        assert current["effective_at"].endswith("+08:00")
        old = {v: self.api("GET", f"/api/v1/platform/privacy-policy?version={v}").json["text"]
               for v in (1, 2)}
        assert old == {1: original["text"], 2: "隐私政策 第二版"}
        assert self.api("GET", "/api/v1/platform").json["privacy_policy_version"] == 3
        assert self.api("GET", "/api/v1/platform/user-agreement").json["version"] == 1
        self.assert_error(self.api("GET", "/api/v1/platform/privacy-policy?version=4"), 404,
                          "POLICY_VERSION_NOT_FOUND")
        self.assert_error(self.api("GET", "/api/v1/platform/user-agreement?version=2"), 404,
                          "POLICY_VERSION_NOT_FOUND")
        self.assert_error(self.api("GET", "/api/v1/platform/privacy-policy?version=x"), 400,
                          "VALIDATION_FAILED")
        history = self.api("GET", f"{SETTINGS}/privacy_policy/versions", token=self.admin).json
        assert [v["version"] for v in history["items"]] == [3, 2, 1]
        assert [v["created_by_name"] for v in history["items"]] == ["root", "root", None]
        assert [a["after"] for a in self.audits()] == [{"privacy_policy": {"version": 2}},
                                                       {"privacy_policy": {"version": 3}}]

    def test_concurrent_policy_changes_each_get_their_own_version(self):
        def put_from_thread(i: int):
            conn = http.client.HTTPConnection("127.0.0.1", self.get_http_port(), timeout=30)
            try:
                conn.request("PUT", SETTINGS, json.dumps({"user_agreement": f"协议 第 {i} 稿"}),
                             {"Authorization": f"Bearer {self.admin}",
                              "Content-Type": "application/json"})
                return conn.getresponse().status
            finally:
                conn.close()

        assert self.run_blocking(lambda: run_at_once(4, put_from_thread)) == [200] * 4
        history = self.api("GET", f"{SETTINGS}/user_agreement/versions", token=self.admin).json
        assert [v["version"] for v in history["items"]] == [5, 4, 3, 2, 1]
        assert sorted(v["text"] for v in history["items"][:4]) == [
            f"协议 第 {i} 稿" for i in range(4)]
        assert self.api("GET", "/api/v1/platform").json["user_agreement_version"] == 5
        assert len(self.audits()) == 4

    def test_bad_input_is_refused_in_the_envelope(self):
        for body in ({"name": ""}, {"name": "名" * 33}, {"unknown": 1}, {"contact_phone": "abc"},
                     {"contact_hours": 5}, {"privacy_policy": ""}, {"user_agreement": None},
                     {"privacy_policy": "x" * 20_001}, {"name": "a\x1bb"},
                     {"logo_upload_id": "u" + "x" * 20}, {"logo_upload_id": 7}):
            with self.subTest(body=body):
                self.assert_error(self.put(body), 400, "VALIDATION_FAILED")
        self.assert_error(self.api("PUT", SETTINGS, body=b"{", token=self.admin,
                                   headers={"Content-Type": "application/json"}), 400,
                          "MALFORMED_JSON")
        assert self.audits() == []

    def test_logo_upload_is_served_and_shown_publicly(self):
        body, headers = multipart({}, {"file": ("logo.png", png_bytes())})
        upload = self.api("POST", "/api/admin/v1/uploads", body=body, headers=headers,
                          token=self.admin)
        assert upload.status == 201, upload.body
        assert self.put({"logo_upload_id": upload.json["id"]}).status == 200
        logo_url = self.api("GET", "/api/v1/platform").json["logo_url"]
        assert logo_url == f"/media/{upload.json['id']}"
        served = self.api("GET", logo_url)
        assert served.status == 200 and served.body == png_bytes()
        assert self.put({"logo_upload_id": None}).json["logo_url"] is None
        # A consumer's upload is not the platform's to take.
        mine = self.api("POST", "/api/v1/uploads", body=multipart(
            {"purpose": "logo"}, {"file": ("a.png", png_bytes())})[0], headers=headers,
            token=self.token("alice"))
        assert mine.status == 201
        self.assert_error(self.put({"logo_upload_id": mine.json["id"]}), 400, "VALIDATION_FAILED")

    def test_public_read_is_cached_and_forgotten_through_the_feed(self):
        feed = InvalidationFeed()
        with connection():
            feed.poll()  # starts the feed
        assert self.api("GET", "/api/v1/platform").json["name"] == "异业联盟"
        with connection():  # a change this process does not know of: still cached
            PlatformSettings.create(id=1, name="别处改的", contact_phone="", contact_hours="")
        assert self.api("GET", "/api/v1/platform").json["name"] == "异业联盟"
        with connection():  # another process changed them: its forget reaches this one
            CacheInvalidation.create(cache="platform_settings", key=None)
            assert feed.poll() >= 1
        assert self.api("GET", "/api/v1/platform").json["name"] == "别处改的"
        assert self.put({"name": "本进程改的"}).status == 200
        assert self.api("GET", "/api/v1/platform").json["name"] == "本进程改的"
        with connection():
            assert CacheInvalidation.select().where(
                CacheInvalidation.cache == "platform_settings").count() == 2

    def test_only_administrators_read_and_change_settings(self):
        for role in ("operator", "customer_service"):
            token = self.operator_token(role)
            for method, path, body in (("GET", SETTINGS, None), ("PUT", SETTINGS, {"name": "x"}),
                                       ("GET", f"{SETTINGS}/user_agreement/versions", None),
                                       ("GET", "/api/admin/v1/system", None)):
                with self.subTest(role=role, path=path):
                    self.assert_error(self.api(method, path, body, token=token), 403,
                                      "FORBIDDEN")
            body, headers = multipart({}, {"file": ("logo.png", png_bytes())})
            self.assert_error(self.api("POST", "/api/admin/v1/uploads", body=body,
                                       headers=headers, token=token), 403, "FORBIDDEN")
        self.assert_error(self.put({"name": "x"}, token=self.token("alice")), 401,
                          "TOKEN_INVALID")
        self.assert_error(self.api("GET", "/api/admin/v1/system"), 401, "UNAUTHENTICATED")
        assert self.api("GET", "/api/v1/platform").json["name"] == "异业联盟"


class SystemHealthTest(ApiTestCase):
    def test_health_names_database_migrations_backlogs_and_jobs(self):
        admin = self.operator_token("administrator")
        with connection():
            OutboxMessage.create(event="order.paid", user_id=1, payload="{}")
            OutboxMessage.create(event="order.paid", user_id=1, payload="{}", status="failed")
            PaymentNotification.create(channel="wechatpay", notification_id="n-1", kind="payment")
            JobRun.create(job="orders.close_unpaid", slot=utcnow(), holder="h:1:t",
                          outcome="failed", error="boom")
        health = self.api("GET", "/api/admin/v1/system", token=admin)
        assert health.status == 200, health.body
        system = health.json
        assert system["version"] and system["environment"] == "sandbox"
        assert system["database"]["kind"] in ("sqlite", "mysql")
        assert system["database"]["migration"] == system["database"]["latest_migration"]
        assert system["database"]["migration"] == sorted(
            path.stem for path in (ROOT / "migrations").glob("[0-9]*.py"))[-1]
        assert system["database"]["pending_migrations"] == []
        assert (system["outbox"]["pending"], system["outbox"]["failed"]) == (1, 1)
        assert system["payment_notifications"]["unapplied"] == 1
        jobs = {job["name"]: job for job in system["jobs"]}
        assert "orders.close_unpaid" in jobs
        assert jobs["orders.close_unpaid"]["failures_24h"] == 1
        assert jobs["orders.close_unpaid"]["last_failed_at"].endswith("+08:00")
        assert jobs["orders.close_unpaid"]["last_run"]["outcome"] == "failed"
        assert platform.PUBLIC.name == "platform_settings"
