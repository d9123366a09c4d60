"""Backups from the console: started off the event loop, one at a time across processes,
listed, downloaded byte for byte, restorable; dead ones marked failed; the daily job once per
slot across schedulers; old ones pruned, never the newest."""
import datetime as dt
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

from alliance.accounts.models import OperatorAuditLog, User
from alliance.backups import services as backups
from alliance.backups.models import FAILED, RUNNING, SUCCEEDED, Backup
from alliance.db import connection, init_db, utcnow
from alliance.infra.backup import BackupError
from alliance.infra.restore import restore
from alliance.models import ALL_MODELS
from scheduler.jobs import JOBS
from server.app import build_context
from tests.concurrency import run_at_once
from tests.scheduling import fire_together, scheduler_instances
from tests.support import _ROOT, ApiTestCase

BACKUPS = "/api/admin/v1/backups"


class BackupsTest(ApiTestCase):
    def get_app(self):
        self.backup_dir = Path(tempfile.mkdtemp(dir=_ROOT, prefix="backups-"))
        self.env = {"BACKUP_DIR": str(self.backup_dir), "BACKUP_KEEP": "2"}
        return super().get_app()

    def setUp(self):
        super().setUp()
        self.admin = self.operator_token("administrator", "root")

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.backup_dir, ignore_errors=True)

    def start(self):
        return self.api("POST", BACKUPS, token=self.admin)

    def finished(self, backup_id: int, timeout: float = 30) -> dict:
        """The backup once it is no longer running (the console's poll)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.api("GET", f"{BACKUPS}/{backup_id}", token=self.admin).json
            if answer["status"] != RUNNING:
                return answer
            assert time.monotonic() < deadline, answer
            time.sleep(0.05)

    def counts(self) -> dict[str, int]:
        with connection():
            return {m._meta.table_name: m.select().count() for m in ALL_MODELS}

    def test_start_answers_202_at_once_and_the_backup_restores_into_a_fresh_database(self):
        with connection():
            for n in range(3):
                User.create(nickname=f"用户{n}")
        response = self.start()
        assert response.status == 202, response.body
        started = response.json
        assert started["status"] == RUNNING and started["download_url"] is None
        assert response.headers["Location"] == f"{BACKUPS}/{started['id']}"
        done = self.finished(started["id"])
        assert done["status"] == SUCCEEDED, done
        assert done["row_counts"]["user"] == 3 and done["started_by_name"] == "root"
        assert done["progress"]["tables_done"] == done["progress"]["tables_total"] == len(ALL_MODELS)
        assert done["restore_command"] == (f"python -m server restore "
                                           f"{self.backup_dir / done['file_name']} --force")
        download = self.api("GET", done["download_url"], token=self.admin)
        assert download.status == 200
        assert download.headers["Content-Type"] == "application/gzip"
        assert download.headers["Content-Disposition"] == \
            f'attachment; filename="{done["file_name"]}"'
        assert hashlib.sha256(download.body).hexdigest() == done["sha256"]
        assert len(download.body) == done["size_bytes"]
        with connection():
            audits = [a.action for a in OperatorAuditLog.select().order_by(OperatorAuditLog.id)]
        assert audits[-2:] == ["backup.start", "backup.download"]
        before = self.counts()
        # The backup was taken while it ran: its own record says running in it.
        assert done["row_counts"] == {**before,
                                      "operator_audit_log": before["operator_audit_log"] - 1}
        copy = Path(tempfile.mkdtemp(dir=_ROOT)) / done["file_name"]
        copy.write_bytes(download.body)
        init_db(f"sqlite:///{copy.parent / 'restored.sqlite3'}")
        restored = restore(copy)
        assert restored.tables == done["row_counts"]
        with connection():
            assert [u.nickname for u in User.select().order_by(User.id)] == \
                ["用户0", "用户1", "用户2"]
            backups.after_restore(self.backup_dir, copy, restored)
            assert Backup.get(Backup.file_name == copy.name).status == SUCCEEDED

    def test_system_health_tells_the_latest_backup_and_when_one_is_overdue(self):
        def health():
            return self.api("GET", "/api/admin/v1/system", token=self.admin).json["backups"]

        assert health() == {"last_succeeded_at": None, "last_failed_at": None,
                            "running": False, "overdue": True}
        done = self.finished(self.start().json["id"])
        assert health() == {"last_succeeded_at": done["finished_at"], "last_failed_at": None,
                            "running": False, "overdue": False}

    def test_a_second_start_while_one_runs_is_refused_with_409(self):
        with connection():
            running = backups.begin("command")
        self.assert_error(self.start(), 409, "BACKUP_RUNNING")
        assert self.api("GET", BACKUPS, token=self.admin).json["items"][0]["id"] == running.id

    def test_concurrent_starts_let_exactly_one_backup_run(self):
        def post(_):
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", self.get_http_port(), timeout=30)
            try:
                conn.request("POST", BACKUPS, b"", {"Authorization": f"Bearer {self.admin}"})
                response = conn.getresponse()
                return response.status, json.loads(response.read())
            finally:
                conn.close()

        answers = self.run_blocking(lambda: run_at_once(4, post))
        assert sorted(status for status, _ in answers) == [202, 409, 409, 409]
        assert {body["error"]["code"] for status, body in answers if status == 409} == {
            "BACKUP_RUNNING"}
        [started] = [body for status, body in answers if status == 202]
        assert self.finished(started["id"])["status"] == SUCCEEDED
        with connection():
            assert Backup.select().count() == 1

    def test_a_running_backup_whose_process_died_is_marked_failed_and_another_may_start(self):
        with connection():
            dead = backups.begin("console")
            (Backup.update(heartbeat_at=utcnow() - backups.STALE_AFTER - dt.timedelta(seconds=1))
             .where(Backup.id == dead.id).execute())
            (self.backup_dir / (dead.file_name + ".partial")).write_bytes(b"half")
        listed = self.api("GET", BACKUPS, token=self.admin).json["items"]
        assert listed[0]["status"] == FAILED and "interrupted" in listed[0]["error"]
        assert self.start().status == 202
        self.assert_error(self.api("GET", f"{BACKUPS}/{dead.id}/download", token=self.admin),
                          409, "BACKUP_NOT_READY")

    def test_list_pages_newest_first_and_detail_answers_404_for_an_unknown_id(self):
        ids = []
        for _ in range(3):
            ids.append(self.start().json["id"])
            self.finished(ids[-1])
        first = self.api("GET", f"{BACKUPS}?limit=2", token=self.admin).json
        assert [b["id"] for b in first["items"]] == ids[:0:-1]
        assert first["backup_dir"] == str(self.backup_dir) and first["keep"] == 2
        rest = self.api("GET", f"{BACKUPS}?limit=2&cursor={first['next_cursor']}",
                        token=self.admin).json
        assert [b["id"] for b in rest["items"]] == ids[:1] and rest["next_cursor"] is None
        for path in (f"{BACKUPS}/999999", f"{BACKUPS}/999999/download"):
            self.assert_error(self.api("GET", path, token=self.admin), 404, "BACKUP_NOT_FOUND")
        self.assert_error(self.api("GET", f"{BACKUPS}?cursor=x", token=self.admin), 400,
                          "VALIDATION_FAILED")

    def test_download_of_a_file_gone_from_the_directory_is_404(self):
        backup_id = self.start().json["id"]
        done = self.finished(backup_id)
        (self.backup_dir / done["file_name"]).unlink()
        self.assert_error(self.api("GET", done["download_url"], token=self.admin), 404,
                          "BACKUP_FILE_MISSING")

    def test_operators_without_admin_settings_are_refused(self):
        backup_id = self.start().json["id"]
        self.finished(backup_id)
        for role in ("operator", "customer_service"):
            token = self.operator_token(role)
            for method, path in (("GET", BACKUPS), ("POST", BACKUPS),
                                 ("GET", f"{BACKUPS}/{backup_id}"),
                                 ("GET", f"{BACKUPS}/{backup_id}/download")):
                self.assert_error(self.api(method, path, token=token), 403, "FORBIDDEN")
        self.assert_error(self.api("GET", f"{BACKUPS}/{backup_id}/download"), 401,
                          "UNAUTHENTICATED")
        self.assert_error(self.api("GET", BACKUPS, token=self.token("alice")), 401,
                          "TOKEN_INVALID")
        with connection():
            assert Backup.select().count() == 1

    def test_daily_job_runs_once_per_slot_across_two_schedulers_and_prunes(self):
        ctx = build_context(self.settings)
        try:
            outcomes = fire_together(scheduler_instances(ctx, JOBS), "backups.daily")
        finally:
            ctx.shutdown()
        assert sorted(outcomes) in (["done", "ok"], ["elsewhere", "ok"]), outcomes
        with connection():
            [row] = Backup.select()
        assert (row.status, row.trigger) == (SUCCEEDED, "schedule")
        assert (self.backup_dir / row.file_name).is_file()

    def test_pruning_keeps_the_newest_successful_backups_and_drops_failed_leftovers(self):
        ids = []
        for _ in range(4):
            ids.append(self.start().json["id"])
            self.finished(ids[-1])
        with connection():
            newest = Backup.get_by_id(ids[-1])
            failed = backups.begin("console")
            (self.backup_dir / (failed.file_name + ".partial")).write_bytes(b"half")
            with mock.patch.object(backups.snapshot, "backup",
                                   side_effect=BackupError("No space left on device")):
                backups.write(failed.id, self.backup_dir, None)
            failed = Backup.get_by_id(failed.id)
            assert (failed.status, failed.error) == (FAILED, "BackupError: No space left on device")
            (self.backup_dir / "operator-copy.tar.gz").write_bytes(b"not ours")
            assert backups.prune(self.backup_dir, keep=2) == 2
            left = [b.id for b in Backup.select().order_by(Backup.id)]
            assert left == [ids[2], ids[3], failed.id]
            assert backups.prune(self.backup_dir, keep=0) == 1  # never the newest success
            assert [b.id for b in Backup.select().order_by(Backup.id)] == [newest.id, failed.id]
        files = sorted(p.name for p in self.backup_dir.iterdir() if p.is_file())
        assert files == sorted([newest.file_name, "operator-copy.tar.gz"])
