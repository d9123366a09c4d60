"""`python -m server backup` without FILE writes a recorded backup into BACKUP_DIR, and
`restore NAME` finds it there; the restored database knows every backup in the directory."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path, database: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / database}",
           "ALLIANCE_VAR_DIR": str(tmp_path / "var"), "BACKUP_DIR": str(tmp_path / "backups")}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def backups_of(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT file_name, status, trigger, rows_total > 0 FROM backup "
                            "ORDER BY id").fetchall()


def test_backup_into_the_directory_then_restore_it_by_name(tmp_path):
    unmigrated = run(tmp_path, "live.sqlite3", "backup")
    assert unmigrated.returncode == 1 and "python -m server migrate" in unmigrated.stderr
    assert "Traceback" not in unmigrated.stderr
    assert run(tmp_path, "live.sqlite3", "migrate").returncode == 0
    first = run(tmp_path, "live.sqlite3", "backup")
    assert first.returncode == 0 and "backup 1 written to" in first.stdout, first.stderr
    assert run(tmp_path, "live.sqlite3", "backup").returncode == 0
    recorded = backups_of(tmp_path / "live.sqlite3")
    names = [row[0] for row in recorded]
    assert sorted(names) == sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert [row[1:3] for row in recorded] == [("succeeded", "command")] * 2

    restored = run(tmp_path, "fresh.sqlite3", "restore", names[0])
    assert restored.returncode == 0, restored.stderr
    assert "1 newer ones recorded again" in restored.stdout
    # Its own record was taken while it ran; the newer file is recorded as found.
    assert backups_of(tmp_path / "fresh.sqlite3") == [
        (names[0], "succeeded", "command", 1), (names[1], "succeeded", "found", 1)]

    missing = run(tmp_path, "other.sqlite3", "restore", "alliance-no-such.tar.gz")
    assert missing.returncode == 1 and "restore refused" in missing.stderr
