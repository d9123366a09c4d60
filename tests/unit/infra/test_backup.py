"""Backup and restore: identical data back, refusals, consistency under writes, portability."""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from alliance.accounts.models import LoginCode, RefreshFamily, User, WechatIdentity
from alliance.accounts.services import user_for_wechat_session
from alliance.accounts.tokens import TokenService
from alliance.db import connection, db, init_db
from alliance.infra import kv
from alliance.infra.backup import BackupError, backup, verify
from alliance.infra.restore import restore
from alliance.models import ALL_MODELS
from alliance.ports import WeChatSession
from tests.support import MYSQL_URL, use_fresh_database

ROOT = Path(__file__).resolve().parents[3]


def populate() -> None:
    for n in range(5):
        user, _ = user_for_wechat_session(WeChatSession("wxapp", f"openid-{n}", f"union-{n}"),
                                          nickname=f"用户{n} ✓")
        TokenService("k" * 48).issue("user", user.id)
    first = User.select().order_by(User.id).first()
    User.update(phone="13800138000", email="a@example.com").where(User.id == first.id).execute()
    LoginCode.create(channel="sms", target="13800138000", code_hash="h" * 64, salt="s",
                     state="active")
    kv.put("greeting", "你好\n\"quoted\"\t\\", ttl_s=600)


def rows() -> dict[str, list[tuple]]:
    """Every row of every domain table, in primary-key order."""
    with connection():
        return {m._meta.table_name: list(m.select().order_by(m._meta.primary_key).tuples())
                for m in ALL_MODELS}


def rebind(url: str) -> None:
    init_db(url)


def sqlite_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def repack(source: Path, target: Path, change) -> None:
    """Copy a backup archive, passing each member's bytes through ``change(name, data)``."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def test_backup_then_restore_into_a_new_database_gives_identical_data(database, tmp_path):
    populate()
    before = rows()
    uploads = tmp_path / "uploads"
    (uploads / "merchants").mkdir(parents=True)
    (uploads / "merchants" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    summary = backup(tmp_path / "b.tgz", uploads)
    assert summary.tables["user"] == 5 and summary.tables["wechat_identity"] == 5
    rebind(sqlite_url(tmp_path, "restored.sqlite3"))  # a new, unmigrated database
    restored = restore(tmp_path / "b.tgz", tmp_path / "restored-uploads")
    assert restored.tables == summary.tables
    assert rows() == before
    assert (tmp_path / "restored-uploads" / "merchants" / "logo.png").read_bytes() == \
        (uploads / "merchants" / "logo.png").read_bytes()


def test_restore_refuses_a_tampered_data_file(database, tmp_path):
    populate()
    backup(tmp_path / "b.tgz")
    repack(tmp_path / "b.tgz", tmp_path / "t.tgz",
           lambda name, data: data.replace("用户1".encode(), "用户9".encode())
           if name == "data.jsonl" else data)
    target = sqlite_url(tmp_path, "target.sqlite3")
    rebind(target)
    with pytest.raises(BackupError, match="data.jsonl was changed"):
        restore(tmp_path / "t.tgz")
    assert not Path(target[len("sqlite:///"):]).exists() or not rows()["user"]


def test_restore_refuses_a_tampered_manifest(database, tmp_path):
    populate()
    backup(tmp_path / "b.tgz")

    def more_users(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["user"] += 1
        return json.dumps(manifest).encode()

    repack(tmp_path / "b.tgz", tmp_path / "t.tgz", more_users)
    with pytest.raises(BackupError, match="manifest.json was changed"):
        verify(tmp_path / "t.tgz")


def test_restore_refuses_a_tampered_uploaded_file(database, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "a.txt").write_text("original")
    backup(tmp_path / "b.tgz", uploads)
    repack(tmp_path / "b.tgz", tmp_path / "t.tgz",
           lambda name, data: b"forged" if name == "files/a.txt" else data)
    with pytest.raises(BackupError, match="files/a.txt was changed"):
        verify(tmp_path / "t.tgz")


def test_something_that_is_not_a_backup_is_refused(tmp_path):
    (tmp_path / "x.tgz").write_bytes(b"not a tar")
    with pytest.raises(BackupError, match="unreadable backup"):
        verify(tmp_path / "x.tgz")


def test_restore_refuses_a_database_holding_data_unless_forced(database, tmp_path):
    populate()
    backup(tmp_path / "b.tgz")
    rebind(sqlite_url(tmp_path, "busy.sqlite3"))
    from alliance.migrate import migrate

    migrate()
    with connection():
        User.create(nickname="someone else")
    with pytest.raises(BackupError, match="not empty .*user"):
        restore(tmp_path / "b.tgz")
    assert [u[1] for u in rows()["user"]] == ["someone else"]
    restore(tmp_path / "b.tgz", force=True)
    assert len(rows()["user"]) == 5 and "someone else" not in {u[1] for u in rows()["user"]}


def test_restore_refuses_uploads_that_are_not_empty_unless_forced(database, tmp_path):
    backup(tmp_path / "b.tgz")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "old.txt").write_text("old")
    rebind(sqlite_url(tmp_path, "target.sqlite3"))
    with pytest.raises(BackupError, match="uploaded files"):
        restore(tmp_path / "b.tgz", uploads)
    restore(tmp_path / "b.tgz", uploads, force=True)
    assert not (uploads / "old.txt").exists()


def test_restore_refuses_a_schema_this_code_does_not_know(database, tmp_path):
    backup(tmp_path / "b.tgz")

    def future(name, data):
        from alliance.infra.backup import _manifest_checksum

        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"].append("0999_future")
        manifest["checksum"] = _manifest_checksum(manifest)
        return json.dumps(manifest).encode()

    repack(tmp_path / "b.tgz", tmp_path / "f.tgz", future)
    rebind(sqlite_url(tmp_path, "target.sqlite3"))
    with pytest.raises(BackupError, match="schema version"):
        restore(tmp_path / "f.tgz")


def test_backup_taken_during_concurrent_writes_restores_a_consistent_state(database, tmp_path):
    with connection():
        User.insert_many([{"nickname": f"u{n}"} for n in range(2500)]).execute()
        WechatIdentity.insert_many([{"appid": "wxapp", "openid": f"bulk-{user_id}",
                                     "user": user_id}
                                    for user_id, in User.select(User.id).tuples()]).execute()
    stop, written, errors = threading.Event(), [], []

    def writer(worker: int) -> None:
        n = 0
        try:
            while not stop.is_set():
                user_for_wechat_session(WeChatSession("wxapp", f"w{worker}-{n}", None))
                written.append(1)
                n += 1
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    while len(written) < 20:
        threading.Event().wait(0.01)
    summary = backup(tmp_path / "live.tgz")
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(written) > 20, "the writers did not overlap the backup"
    rebind(sqlite_url(tmp_path, "restored.sqlite3"))
    restore(tmp_path / "live.tgz")
    with connection():
        users = User.select().count()
        orphans = (WechatIdentity.select()
                   .where(WechatIdentity.user.not_in(User.select(User.id))).count())
        assert orphans == 0
        assert users == WechatIdentity.select().count() == summary.tables["user"]
        assert 2520 <= users <= 2500 + len(written)


@pytest.mark.skipif(not MYSQL_URL, reason="needs TEST_DATABASE_URL (MySQL/MariaDB)")
def test_round_trip_sqlite_to_mysql_to_sqlite_gives_identical_data(tmp_path):
    from alliance.migrate import migrate

    rebind(sqlite_url(tmp_path, "origin.sqlite3"))
    migrate()
    with connection():
        populate()
        RefreshFamily.update(revoked_reason="über ✓").where(RefreshFamily.subject_id == "2").execute()
    origin = rows()
    backup(tmp_path / "from-sqlite.tgz")
    use_fresh_database()  # the MySQL test database, migrated and empty
    restore(tmp_path / "from-sqlite.tgz")
    assert db.obj.__class__.__name__.lower().startswith("pooledmysql")
    backup(tmp_path / "from-mysql.tgz")
    rebind(sqlite_url(tmp_path, "back.sqlite3"))
    restore(tmp_path / "from-mysql.tgz")
    assert rows() == origin


def test_backup_and_restore_commands(database, tmp_path):
    populate()
    env = {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path / "var")}
    run = lambda *args, **extra: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "server", *args], cwd=ROOT, env={**env, **extra},
        capture_output=True, text=True, timeout=120)
    made = run("backup", str(tmp_path / "cli.tgz"))
    assert made.returncode == 0, made.stderr
    assert "backup written" in made.stdout and verify(tmp_path / "cli.tgz")["tables"]["user"] == 5
    target = {"DATABASE_URL": sqlite_url(tmp_path, "cli.sqlite3")}
    restored = run("restore", str(tmp_path / "cli.tgz"), **target)
    assert restored.returncode == 0, restored.stderr
    assert "user: 5 rows" in restored.stdout and "counts verified" in restored.stdout
    again = run("restore", str(tmp_path / "cli.tgz"), **target)
    assert again.returncode == 1 and "not empty" in again.stderr


def test_backup_of_an_older_schema_is_restored_then_migrated(database, tmp_path):
    """A backup made before 0003_accounts (no email column, no code or merge tables)."""
    from alliance.infra.backup import _manifest_checksum
    from alliance.migrate import applied_migrations, migrate, migration_names

    populate()
    backup(tmp_path / "now.tgz")
    known = migration_names()
    older = known[:known.index("0003_accounts")]
    rebind(sqlite_url(tmp_path, "older.sqlite3"))  # what the tables looked like then
    migrate(target=older[-1])
    with connection():
        then = {t: [c.name for c in db.get_columns(t)] for t in db.get_tables()}
    rewritten: dict = {}

    def at_older_version(name, data):
        if name == "data.jsonl":
            out, keep, skipping = [], [], False
            for raw in data.decode().splitlines():
                value = json.loads(raw)
                if isinstance(value, dict) and "table" in value:
                    skipping = value["table"] not in then
                    if skipping:
                        continue
                    columns = value["columns"]
                    keep = [i for i, c in enumerate(columns) if c in then[value["table"]]]
                    value["columns"] = [columns[i] for i in keep]
                elif isinstance(value, dict):
                    value["migrations"] = older
                elif skipping:
                    continue
                else:
                    value = [value[i] for i in keep]
                out.append(json.dumps(value, ensure_ascii=False))
            rewritten["data"] = ("\n".join(out) + "\n").encode()
            return rewritten["data"]
        manifest = json.loads(data)
        manifest["migrations"] = older
        manifest["tables"] = {t: n for t, n in manifest["tables"].items() if t in then}
        manifest["data_sha256"] = hashlib.sha256(rewritten["data"]).hexdigest()
        manifest["checksum"] = _manifest_checksum(manifest)
        return json.dumps(manifest).encode()

    repack(tmp_path / "now.tgz", tmp_path / "old.tgz", at_older_version)  # data.jsonl first
    assert "email" not in then["user"] and "login_code" not in then
    rebind(sqlite_url(tmp_path, "target.sqlite3"))
    summary = restore(tmp_path / "old.tgz")
    assert "login_code" not in summary.tables and summary.tables["user"] == 5
    assert applied_migrations() == known
    with connection():
        assert [u.email for u in User.select()] == [None] * 5
        assert User.select().where(User.phone == "13800138000").count() == 1
