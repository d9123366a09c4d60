"""Authenticated requests check that their login is still active; each process remembers
the logins it found active, and every revocation reaches every process through the feed."""
import datetime as dt

from alliance.accounts.models import RefreshFamily
from alliance.accounts.tokens import ACTIVE_FAMILIES
from alliance.db import db
from alliance.infra.localcache import InvalidationFeed
from alliance.infra.models import CacheInvalidation
from tests.support import ApiTestCase


class LoginStateCacheTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        ACTIVE_FAMILIES.clear()
        self.addCleanup(ACTIVE_FAMILIES.clear)
        self.login_ = self.login("alice")
        self.token_ = self.login_["access_token"]
        with db.connection_context():
            self.family = RefreshFamily.get(RefreshFamily.subject_id
                                            == str(self.login_["user"]["id"])).id

    def revoke_elsewhere(self) -> None:
        """What another process's logout writes: the revocation and its feed row."""
        with db.connection_context():
            RefreshFamily.update(revoked_at=dt.datetime.utcnow()).where(
                RefreshFamily.id == self.family).execute()
            CacheInvalidation.create(cache="login_family", key=self.family)

    def test_a_login_found_active_is_not_read_again_until_the_feed_says_otherwise(self):
        feed = InvalidationFeed()
        with db.connection_context():
            feed.poll()
            feed.poll()
        assert self.api("GET", "/api/v1/me", token=self.token_).status == 200
        assert ACTIVE_FAMILIES.get(self.family) is True
        self.revoke_elsewhere()
        assert self.api("GET", "/api/v1/me", token=self.token_).status == 200  # not yet known
        with db.connection_context():
            assert feed.poll() >= 1
        self.assert_error(self.api("GET", "/api/v1/me", token=self.token_), 401,
                          "SESSION_REVOKED")

    def test_a_revoked_login_is_never_remembered_as_active(self):
        self.revoke_elsewhere()
        self.assert_error(self.api("GET", "/api/v1/me", token=self.token_), 401,
                          "SESSION_REVOKED")
        assert ACTIVE_FAMILIES.get(self.family) is None

    def test_logout_writes_the_feed_row_other_processes_read(self):
        assert self.api("POST", "/api/v1/auth/logout", token=self.token_).status == 204
        with db.connection_context():
            assert CacheInvalidation.select().where(
                CacheInvalidation.cache == "login_family",
                CacheInvalidation.key == self.family).exists()
