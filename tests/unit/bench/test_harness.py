"""The benchmark's parts that decide pass or fail: loaders, status checks, ratios."""
import pytest

from alliance.accounts.models import User, WechatIdentity
from alliance.accounts.services import user_for_wechat_session
from alliance.db import connection
from alliance.ports import WeChatSession
from bench import data
from bench.__main__ import measure, status_problems
from bench.loadgen import Measurement, http_request
from bench.report import Row, render, with_ratios
from bench.scenarios import Bench, Scenario, Workload
from bench.servers import DatabaseProbe
from sandbox.wechat import stand_in_id
from tests.support import MYSQL_URL, make_settings


def _measurement(statuses, transport_errors=0, requests=10):
    return Measurement(connections=1, duration_s=1, requests=requests, rps=requests, p50_ms=1,
                       p99_ms=2, statuses=statuses, transport_errors=transport_errors,
                       error_samples=["500 boom"])


def test_load_users_inserts_users_that_log_in_as_their_sandbox_names(database):
    settings = make_settings(database)
    written = data.load(settings, data.Scale(users=2500), ["users"])
    assert written == {"users": 5000}
    appid = settings.wechat_miniapp_appid
    with connection():
        assert User.select().count() == 2500 and WechatIdentity.select().count() == 2500
        name = data.bench_user_name(2500)
        user, created = user_for_wechat_session(WeChatSession(
            appid=appid, openid=stand_in_id(appid, name), unionid=stand_in_id("union", name)))
        assert created is False and user.nickname == "压测用户2500"


def test_load_with_unknown_loader_fails():
    with pytest.raises(KeyError, match="merchants-of-mars"):
        data.load(None, data.SMOKE_SCALE, ["merchants-of-mars"])


def test_status_problems_flags_unexpected_answers_and_transport_errors():
    workload = Workload([[http_request("GET", "/")]])
    assert status_problems(workload, _measurement({200: 10})) == []
    problems = status_problems(workload, _measurement({200: 9, 500: 1}, transport_errors=2))
    assert len(problems) == 2 and "500" in problems[0] and "transport" in problems[1]
    assert status_problems(workload, _measurement({200: 1}, requests=0))


def test_with_ratios_divides_by_the_mean_baseline_of_the_same_table():
    def row(database, processes, scenario, rps, cpu_ms=0.5):
        return Row(database, processes, scenario, 16, rps, 1, 2, cpu_ms, 1.0, {})

    rows = with_ratios([row("sqlite", 1, "baseline", 900), row("sqlite", 1, "me", 400, cpu_ms=2.0),
                        row("sqlite", 1, "baseline", 1100), row("sqlite", 2, "baseline", 2000),
                        row("sqlite", 2, "me", 500), row("mysql", 1, "me", 300)])
    assert [r.ratio for r in rows] == [0.9, 0.4, 1.1, 1.0, 0.25, None]
    assert rows[1].cpu_ratio == 0.25 and rows[5].cpu_ratio is None


def test_http_request_frames_a_keep_alive_request():
    raw = http_request("POST", "/x", b'{"a":1}', {"Authorization": "Bearer t"})
    assert raw == (b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n"
                   b"Content-Length: 7\r\n\r\n{\"a\":1}")


def test_a_scenario_whose_setup_fails_fails_its_row_only():
    def broken(bench):
        raise RuntimeError("no such merchant")

    scenario = Scenario("broken", broken, "app", (), "a scenario that cannot start")
    bench = Bench("127.0.0.1", 1, 4, data.SMOKE_SCALE, None)
    row = measure(None, scenario, None, bench, "sqlite", 1)
    assert row.scenario == "broken" and row.rps == 0
    assert row.problems == ["setup failed: RuntimeError('no such merchant')"]


def test_the_report_shows_the_database_columns_only_in_tables_that_measured_them():
    def row(database, scenario, database_cpu_ms=None, statements=None):
        return Row(database, 1, scenario, 16, 1000, 1, 2, 0.5, 1.0, {200: 10},
                   database_cpu_ms=database_cpu_ms, statements=statements)

    rows = with_ratios([row("sqlite", "baseline"), row("sqlite", "notify"),
                        row("mysql", "baseline"), row("mysql", "notify", 1.06, 8.14),
                        row("mysql", "claim", None, 3.0)])
    text = render(rows, {}, "python -m bench", {}, {})
    sqlite_table, mysql_table = text.split("## sqlite, 1 process")[1].split("## mysql, 1 process")
    assert "statements/req" not in sqlite_table
    table = mysql_table.strip().split("\n\n")[0]  # up to the findings
    header, rule, *lines = table.splitlines()
    assert "| database CPU ms/req | statements/req |" in header
    assert header.count("|") == rule.count("|")
    assert len(lines) == 3 and "| 1.06 | 8.1 |" in lines[1] and "| - | 3.0 |" in lines[2]
    assert all(line.count("|") == header.count("|") for line in lines)


@pytest.mark.skipif(not MYSQL_URL, reason="MySQL only (TEST_DATABASE_URL)")
def test_the_database_probe_counts_the_statements_sent_to_the_server(database):
    probe = DatabaseProbe(None)  # whether or not the server runs here
    before = probe.sample()
    with connection():
        for _ in range(5):
            User.select().count()
    cpu_ms, statements = probe.per_request(before, answered=5)
    assert cpu_ms is None
    # Each read is one statement; the probe's own SHOW is the sixth.
    assert statements == 6 / 5
