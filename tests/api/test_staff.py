"""Staff and roles in the console: operators' accounts, the guard rails that keep an active
administrator, sessions that end with a disable, and the audit of every change."""
import http.client
import json

from alliance.accounts.models import Operator, OperatorAuditLog
from alliance.accounts.permissions import OPERATOR_ROLES, ROLE_PERMISSIONS
from alliance.db import connection
from tests.concurrency import run_at_once
from tests.support import OPERATOR_PASSWORD, ApiTestCase

NEW_PASSWORD = "brand-new-pass-7"


class StaffTestCase(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.admin = self.operator_token("administrator", "root")
        self.admin_id = self.id_of("root")

    def id_of(self, username: str) -> int:
        with connection():
            return Operator.get(Operator.username == username).id

    def create(self, username: str, role: str = "operator", token: str | None = None, **extra):
        body = {"username": username, "display_name": f"{username} 名", "role": role,
                "password": OPERATOR_PASSWORD, **extra}
        return self.api("POST", "/api/admin/v1/operators", body, token=token or self.admin)

    def login_as(self, username: str, password: str = OPERATOR_PASSWORD):
        return self.api("POST", "/api/admin/v1/auth/login",
                        {"username": username, "password": password})

    def patch(self, operator_id: int, body: dict, token: str | None = None):
        return self.api("PATCH", f"/api/admin/v1/operators/{operator_id}", body,
                        token=token or self.admin)

    def audits(self, action: str) -> list[dict]:
        with connection():
            return [{"operator": a.operator_id, "target": a.target_id,
                     "details": json.loads(a.details)}
                    for a in OperatorAuditLog.select().where(OperatorAuditLog.action == action)
                    .order_by(OperatorAuditLog.id)]


class OperatorsTest(StaffTestCase):
    def test_create_lists_and_logs_in_the_new_operator(self):
        response = self.create("ops-wang", "customer_service")
        assert response.status == 201, response.body
        created = response.json
        assert (created["username"], created["role"], created["status"]) == (
            "ops-wang", "customer_service", "active")
        assert created["last_login_at"] is None
        assert self.login_as("ops-wang").status == 200
        listed = self.api("GET", "/api/admin/v1/operators", token=self.admin).json["items"]
        by_name = {o["username"]: o for o in listed}
        assert by_name["ops-wang"]["last_login_at"] is not None
        assert by_name["ops-wang"]["last_login_at"].endswith("+08:00")
        assert [a["details"]["after"]["role"] for a in self.audits("operator.create")] == [
            "customer_service"]

    def test_create_refuses_a_weak_password_and_a_taken_name(self):
        self.assert_error(self.create("ops-a", password="short1"), 400, "VALIDATION_FAILED")
        self.assert_error(self.create("ops-a", password="onlyletterslong"), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.create("ops-a", role="superuser"), 400, "VALIDATION_FAILED")
        self.assert_error(self.create("ops-a", extra_field=1), 400, "VALIDATION_FAILED")
        assert self.create("ops-a").status == 201
        self.assert_error(self.create("ops-a"), 409, "OPERATOR_EXISTS")
        self.assert_error(self.api("POST", "/api/admin/v1/operators", [1], token=self.admin),
                          400, "VALIDATION_FAILED")

    def test_create_with_an_idempotency_key_runs_once(self):
        headers = {"Idempotency-Key": "create-ops-b"}
        body = {"username": "ops-b", "role": "operator", "password": OPERATOR_PASSWORD}
        first = self.api("POST", "/api/admin/v1/operators", body, token=self.admin,
                         headers=headers)
        again = self.api("POST", "/api/admin/v1/operators", body, token=self.admin,
                         headers=headers)
        assert first.status == again.status == 201 and first.json == again.json
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert len(self.audits("operator.create")) == 1

    def test_roles_list_each_role_with_labelled_permissions(self):
        roles = self.api("GET", "/api/admin/v1/roles", token=self.admin).json["items"]
        assert [r["role"] for r in roles] == list(OPERATOR_ROLES)
        assert [r["label"] for r in roles] == ["管理员", "运营", "客服"]
        for role in roles:
            assert {p["permission"] for p in role["permissions"]} == ROLE_PERMISSIONS[role["role"]]
            assert all(p["label"] and not p["label"].isascii() for p in role["permissions"])

    def test_role_change_is_audited_and_ends_the_old_sessions(self):
        self.create("ops-c")
        ops_id = self.id_of("ops-c")
        token = self.login_as("ops-c").json["access_token"]
        assert self.api("GET", "/api/admin/v1/me", token=token).status == 200
        response = self.patch(ops_id, {"role": "customer_service", "display_name": "小陈"})
        assert response.status == 200, response.body
        assert (response.json["role"], response.json["display_name"]) == ("customer_service", "小陈")
        self.assert_error(self.api("GET", "/api/admin/v1/me", token=token), 401, "SESSION_REVOKED")
        [entry] = self.audits("operator.update")
        assert entry["operator"] == self.admin_id and entry["target"] == str(ops_id)
        assert entry["details"]["before"] == {"role": "operator", "display_name": "ops-c 名"}
        assert entry["details"]["after"] == {"role": "customer_service", "display_name": "小陈"}
        relogged = self.login_as("ops-c").json["access_token"]
        self.assert_error(self.api("GET", "/api/admin/v1/jobs", token=relogged), 403, "FORBIDDEN")

    def test_disable_ends_sessions_at_once_and_refuses_login_and_refresh(self):
        self.create("ops-d")
        ops_id = self.id_of("ops-d")
        pair = self.login_as("ops-d").json
        assert self.api("GET", "/api/admin/v1/me", token=pair["access_token"]).status == 200
        assert self.patch(ops_id, {"status": "disabled"}).json["status"] == "disabled"
        self.assert_error(self.api("GET", "/api/admin/v1/me", token=pair["access_token"]),
                          401, "SESSION_REVOKED")
        self.assert_error(self.api("POST", "/api/admin/v1/auth/refresh",
                                   {"refresh_token": pair["refresh_token"]}),
                          401, "SESSION_REVOKED")
        self.assert_error(self.login_as("ops-d"), 401, "INVALID_CREDENTIALS")
        assert self.patch(ops_id, {"status": "active"}).json["status"] == "active"
        assert self.login_as("ops-d").status == 200
        assert [e["details"]["after"] for e in self.audits("operator.update")] == [
            {"status": "disabled"}, {"status": "active"}]

    def test_password_reset_ends_sessions_and_the_old_password(self):
        self.create("ops-e")
        ops_id = self.id_of("ops-e")
        old = self.login_as("ops-e").json["access_token"]
        path = f"/api/admin/v1/operators/{ops_id}/password"
        self.assert_error(self.api("POST", path, {"password": "12345678901"}, token=self.admin),
                          400, "VALIDATION_FAILED")
        response = self.api("POST", path, {"password": NEW_PASSWORD}, token=self.admin)
        assert response.status == 200 and response.json["sessions_ended"] == 1
        self.assert_error(self.api("GET", "/api/admin/v1/me", token=old), 401, "SESSION_REVOKED")
        self.assert_error(self.login_as("ops-e"), 401, "INVALID_CREDENTIALS")
        assert self.login_as("ops-e", NEW_PASSWORD).status == 200
        assert [a["target"] for a in self.audits("operator.password_reset")] == [str(ops_id)]
        mine = self.api("POST", f"/api/admin/v1/operators/{self.admin_id}/password",
                        {"password": NEW_PASSWORD}, token=self.admin)
        assert mine.status == 200  # one's own reset keeps the session it came from
        assert self.api("GET", "/api/admin/v1/me", token=self.admin).status == 200

    def test_unknown_operator_and_bad_patches_are_refused(self):
        self.assert_error(self.patch(999999, {"display_name": "x"}), 404, "OPERATOR_NOT_FOUND")
        self.assert_error(self.patch(self.admin_id, {}), 400, "VALIDATION_FAILED")
        self.assert_error(self.patch(self.admin_id, {"password": "x"}), 400, "VALIDATION_FAILED")
        self.assert_error(self.patch(self.admin_id, {"role": "root"}), 400, "VALIDATION_FAILED")
        self.assert_error(self.patch(self.admin_id, {"status": "gone"}), 400, "VALIDATION_FAILED")
        self.assert_error(self.patch(self.admin_id, {"display_name": ""}), 400,
                          "VALIDATION_FAILED")


class AdministratorGuardTest(StaffTestCase):
    def test_an_administrator_cannot_disable_or_demote_themselves(self):
        self.create("admin-2", "administrator")
        for body in ({"status": "disabled"}, {"role": "operator"}):
            self.assert_error(self.patch(self.admin_id, body), 409, "OPERATOR_SELF_CHANGE")
        assert self.patch(self.admin_id, {"display_name": "根"}).status == 200
        with connection():
            root = Operator.get_by_id(self.admin_id)
        assert (root.role, root.status) == ("administrator", "active")

    def test_the_last_active_administrator_cannot_be_disabled_or_demoted(self):
        from alliance.accounts import staff

        self.create("admin-2", "administrator")
        second_id = self.id_of("admin-2")
        assert self.patch(second_id, {"status": "disabled"}).status == 200
        # Only a change made on a session that is ending (a second process has not heard of
        # the disable yet) can try it one by one; the race below tries it at the same time.
        for body in ({"status": "disabled"}, {"role": "customer_service"}):
            with self.assertRaises(staff.LastAdministrator), connection():
                staff.update_operator(second_id, self.admin_id, body)
        with connection():
            root = Operator.get_by_id(self.admin_id)
        assert (root.role, root.status) == ("administrator", "active")
        # A disabled administrator can be demoted: it is not an active one.
        assert self.patch(second_id, {"role": "operator"}).json["role"] == "operator"

    def _request(self, method: str, path: str, body: dict, token: str) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.get_http_port(), timeout=30)
        try:
            conn.request(method, path, json.dumps(body), {"Authorization": f"Bearer {token}",
                                                          "Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def _race(self, body: dict) -> None:
        """The last two active administrators change each other at the same moment."""
        self.create("admin-2", "administrator")
        second = self.login_as("admin-2").json["access_token"]
        second_id = self.id_of("admin-2")
        plan = [(second_id, self.admin), (self.admin_id, second)]
        for token in (self.admin, second):  # both logins known active: both pass sign-in
            assert self.api("GET", "/api/admin/v1/me", token=token).status == 200
        outcomes = self.run_blocking(lambda: run_at_once(2, lambda i: self._request(
            "PATCH", f"/api/admin/v1/operators/{plan[i][0]}", body, plan[i][1])))
        # The loser is refused: LAST_ADMINISTRATOR when its change reached the guard, or
        # SESSION_REVOKED when the winner's change had already ended its session.
        refused = sorted((status, answer["error"]["code"]) for status, answer in outcomes
                         if status != 200)
        assert len(outcomes) - len(refused) == 1, outcomes
        assert refused in ([(409, "LAST_ADMINISTRATOR")], [(401, "SESSION_REVOKED")]), outcomes
        with connection():
            active = Operator.select().where(Operator.role == "administrator",
                                             Operator.status == "active").count()
        assert active == 1
        assert len(self.audits("operator.update")) == 1

    def test_two_concurrent_demotions_leave_one_administrator(self):
        self._race({"role": "operator"})

    def test_two_concurrent_disables_leave_one_administrator(self):
        self._race({"status": "disabled"})


class StaffAuthorizationTest(StaffTestCase):
    def test_only_administrators_manage_staff_and_roles(self):
        self.create("ops-f")
        target = self.id_of("ops-f")
        calls = [("GET", "/api/admin/v1/operators", None),
                 ("POST", "/api/admin/v1/operators",
                  {"username": "intruder", "role": "administrator", "password": OPERATOR_PASSWORD}),
                 ("PATCH", f"/api/admin/v1/operators/{target}", {"role": "administrator"}),
                 ("POST", f"/api/admin/v1/operators/{target}/password", {"password": NEW_PASSWORD}),
                 ("GET", "/api/admin/v1/roles", None)]
        for role in ("operator", "customer_service"):
            token = self.operator_token(role)
            for method, path, body in calls:
                with self.subTest(role=role, path=path, method=method):
                    self.assert_error(self.api(method, path, body, token=token), 403, "FORBIDDEN")
        consumer = self.token("alice")
        for method, path, body in calls:
            self.assert_error(self.api(method, path, body, token=consumer), 401, "TOKEN_INVALID")
            self.assert_error(self.api(method, path, body), 401, "UNAUTHENTICATED")
        with connection():
            assert not Operator.select().where(Operator.username == "intruder").exists()
            assert Operator.get_by_id(target).role == "operator"
        assert self.login_as("ops-f").status == 200
