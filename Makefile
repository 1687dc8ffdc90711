# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench bench-scale bench-profile bench-vouchers install install-dev install-run lock lint format migrate seed worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The requirements*.txt files are locks (every transitive dependency, pinned, with its hashes) compiled from the
# requirements*.in files by `make lock`; --require-hashes refuses any file whose hash differs and any unpinned package.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $@

# honcho, for `make run` only: production runs the Procfile under its own process manager.
$(VENV)/.installed-run: requirements-run.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-run.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-run: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

# Recompiles the locks after a requirements*.in edit; versions already locked stay unless the .in pin changed.
# LOCK_ARGS="--upgrade-package celery" moves one package (and what it needs) to the newest allowed, "--upgrade" all.
# The dev and run locks are constrained by requirements.txt, so a package shared with the runtime has one version.
# No index URL or local path is written into the files: they install from whatever index pip is configured with.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)
lock: install-dev
	$(PIP_COMPILE) --output-file=requirements.txt requirements.in
	$(PIP_COMPILE) --output-file=requirements-run.txt requirements-run.in
	$(PIP_COMPILE) --output-file=requirements-dev.txt requirements-dev.in

# createcachetable does nothing unless CACHE_URL names the database cache (dbcache://table_name).
migrate: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py setup_periodic_tasks

seed: migrate install-run
	$(BIN)/python manage.py seed_demo --host $(HOST) --port $(PORT)

# Web server, Celery worker and Celery beat together (Procfile.dev), on SQLite and the filesystem broker.
# honcho gives each process its own PORT counting up from --port; the web process is first, so it gets $(PORT).
run: seed install-run
	HOST=$(HOST) $(BIN)/honcho -f Procfile.dev start --port $(PORT)

# One pytest-xdist worker per core; PYTEST_WORKERS=0 runs in one process (for pdb, or -x on the first failure).
# worksteal: an idle worker takes queued tests from a busy one, so a few long tests at the end leave no core idle.
# The SQLite test databases are kept between runs (--reuse-db); PYTEST_ARGS=--create-db builds them afresh.
# Tests marked slow (full-size runs of what a smaller test proves) are left out: PYTEST_MARKS=slow runs only them,
# PYTEST_MARKS= runs everything.
PYTEST_WORKERS ?= auto
PYTEST_MARKS ?= not slow
test: install-dev
	$(BIN)/python -m pytest --numprocesses=$(PYTEST_WORKERS) --dist=worksteal -m "$(PYTEST_MARKS)" $(PYTEST_ARGS)

# The benchmark suite (bench/suite.py, docs/benchmarks.md): every hot path through gunicorn, driven by wrk, beside the
# bare-Django and authenticated-DRF floors; writes bench/results/suite-$(SCALE).json, docs/benchmarks/suite-$(SCALE).png
# and regenerates docs/benchmarks.md. The data set is built first if the database does not hold SCALE customers
# (`make bench-scale`). wrk is Debian's package, installed here when missing.
SCALE ?= 20000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/retail_crm_bench_$(SCALE)
bench: install-dev
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m bench.suite --customers $(SCALE) --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

# The suite's data set on PostgreSQL (bench/scale_data.py, COPY and set-based SQL): SCALE=20000 or SCALE=1000000.
bench-scale: install
	$(BIN)/python -m bench.scale_data --customers $(SCALE) --database-url $(BENCH_DATABASE_URL)

# The older Scan & Go-only benchmark with its Python load generator (bench/customer_profile.py), SQLite by default.
bench-profile: install
	$(BIN)/python -m bench.customer_profile $(BENCH_ARGS)

# Bulk voucher generation (the Celery job) against Django's bulk_create floor (bench/voucher_batches.py).
bench-vouchers: install
	$(BIN)/python -m bench.voucher_batches $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/db.sqlite3* var/test_db* var/celery-broker var/celerybeat-schedule* staticfiles
