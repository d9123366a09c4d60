"""The command line with a database it cannot open: one line on stderr and exit status 2,
never a traceback (and never the password of DATABASE_URL)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "ALLIANCE_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("url, said", [
    ("mysql://alliance:s3cret-pw@127.0.0.1:1/alliance", "cannot open the database"),
    ("sqlite:////proc/no-such-dir/alliance.sqlite3", "cannot open the database"),
    ("postgres://alliance:s3cret-pw@127.0.0.1/alliance", "unsupported DATABASE_URL scheme"),
])
def test_a_database_that_cannot_be_opened_is_one_line_and_status_2(tmp_path, url, said):
    for args in (("migrate",), ("backup", str(tmp_path / "x.tgz")), ("load-demo",)):
        done = run(tmp_path, url, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert said in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "s3cret-pw" not in done.stderr + done.stdout


def test_the_sandbox_server_does_not_start_on_a_database_it_cannot_open(tmp_path):
    done = run(tmp_path, "mysql://root@127.0.0.1:1/alliance", "--port", "0")
    assert done.returncode == 2 and "cannot open the database" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
