"""Console accounts: the command, password login, lockout, token audiences."""
import os
import subprocess
import sys
from pathlib import Path

from alliance.accounts.models import Operator
from alliance.db import db
from tests.support import OPERATOR_PASSWORD, ApiTestCase

ROOT = Path(__file__).resolve().parents[2]


class OperatorLoginTest(ApiTestCase):
    def _create(self, username="ops1", role="operator"):
        from alliance.accounts.operators import create_operator

        with db.connection_context():
            create_operator(username, OPERATOR_PASSWORD, role)

    def _login(self, username="ops1", password=OPERATOR_PASSWORD):
        return self.api("POST", "/api/admin/v1/auth/login",
                        {"username": username, "password": password})

    def test_login_answers_tokens_and_the_operator(self):
        self._create()
        response = self._login()
        assert response.status == 200
        assert response.json["operator"]["role"] == "operator"
        me = self.api("GET", "/api/admin/v1/me", token=response.json["access_token"])
        assert me.status == 200 and me.json["username"] == "ops1"

    def test_login_with_wrong_password_is_refused(self):
        self._create()
        self.assert_error(self._login(password="wrong-password-1"), 401, "INVALID_CREDENTIALS")
        self.assert_error(self._login(username="nobody"), 401, "INVALID_CREDENTIALS")

    def test_five_failures_lock_the_account(self):
        self._create()
        for _ in range(5):
            self._login(password="wrong-password-1")
        self.assert_error(self._login(), 423, "ACCOUNT_LOCKED")

    def test_consumer_token_is_not_an_operator_token(self):
        self.assert_error(self.api("GET", "/api/admin/v1/me", token=self.token("alice")),
                          401, "TOKEN_INVALID")

    def test_operator_token_is_not_a_consumer_token(self):
        self.assert_error(self.api("GET", "/api/v1/me", token=self.operator_token()),
                          401, "TOKEN_INVALID")


def test_create_operator_command_prompts_twice_and_stores_a_hash(database, tmp_path):
    env = {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "server", "create-operator", "root-admin",
                             "--role", "administrator"], cwd=ROOT, env=env, text=True,
                            input=f"{OPERATOR_PASSWORD}\n{OPERATOR_PASSWORD}\n",
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    with db.connection_context():
        operator = Operator.get(Operator.username == "root-admin")
    assert operator.role == "administrator"
    assert operator.password_hash.startswith("$argon2id$") and OPERATOR_PASSWORD not in operator.password_hash


def test_create_operator_command_refuses_differing_passwords(database, tmp_path):
    env = {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "server", "create-operator", "x-admin",
                             "--role", "administrator"], cwd=ROOT, env=env, text=True,
                            input=f"{OPERATOR_PASSWORD}\nsomething-else-1\n",
                            capture_output=True, timeout=60)
    assert result.returncode != 0 and "differ" in result.stderr
