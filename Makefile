# The two commands of CONTRACT.md, `make run` and `make test`, and the load benchmark.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run test bench bench-smoke

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m server migrate
	$(PY) -m server load-demo --if-empty
	$(PY) -m server

# The suite on SQLite, then again on MySQL/MariaDB when TEST_DATABASE_URL is set.
test: install
	env -u TEST_DATABASE_URL $(PY) -m pytest -q
	if [ -n "$$TEST_DATABASE_URL" ]; then $(PY) -m pytest -q; fi

# The load benchmark (bench/README.md): SQLite and MariaDB, 1 and 2 processes, demo-scale
# data; writes bench/REPORT.md. BENCH_ARGS adds options, BENCH_MYSQL_URL names the database.
bench: install
	BENCH_COMMAND="make bench $(BENCH_ARGS)" $(PY) -m bench $(BENCH_ARGS)

# CI's tiny run of the same harness (SQLite, 1 process, small data, seconds per scenario).
bench-smoke: install
	$(PY) -m bench --smoke
