"""CI's run of the load benchmark: the whole harness, tiny, as `make bench-smoke` runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_measures_every_scenario_and_passes_its_checks(tmp_path):
    report = tmp_path / "REPORT.md"
    env = {k: v for k, v in os.environ.items() if k != "BENCH_COMMAND"}
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path),
                           "--report", str(report), "--duration", "1", "--warmup", "0.3"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    names = [row["scenario"] for row in results["rows"]]
    others = [name for name in SCENARIOS if name != "baseline"]
    assert names == ["baseline", *others, "baseline"]
    assert {"healthz", "me", "login", "merchant", "items", "nearby", "claim",
            "redeem", "order", "notify"} <= set(others)
    for row in results["rows"]:
        assert row["database"] == "sqlite" and row["processes"] == 1
        assert row["rps"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"], row
        assert row["problems"] == [], row
        expected = {"claim": {"201", "409"}, "redeem": {"201", "409"}, "order": {"201"},
                    "notify": {"204"}}.get(row["scenario"], {"200"})
        assert set(row["statuses"]) <= expected, row
        assert row["ratio"] > 0 and row["cpu_ms"] > 0 and row["cpu_ratio"] > 0
    claim = next(row for row in results["rows"] if row["scenario"] == "claim")
    assert 0 < claim["statuses"]["201"] <= 100  # the smoke stock; exact counts: its post-check
    notify = next(row for row in results["rows"] if row["scenario"] == "notify")
    assert notify["statuses"]["204"] > 0  # each paid exactly once: its post-check
    first, last = results["rows"][0]["ratio"], results["rows"][-1]["ratio"]
    assert abs(first + last - 2.0) < 1e-9  # the mean of the two baselines is the unit
    text = report.read_text()
    assert "## sqlite, 1 process" in text and "| claim | 4 |" in text
    assert "python -m bench --smoke" in text and results["facts"]["cores"]
