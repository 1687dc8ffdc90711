# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench bench-vouchers install install-dev lint format migrate seed worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# createcachetable does nothing unless CACHE_URL names the database cache (dbcache://table_name).
migrate: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py setup_periodic_tasks

seed: migrate
	$(BIN)/python manage.py seed_demo --host $(HOST) --port $(PORT)

# Web server, Celery worker and Celery beat together (Procfile.dev), on SQLite and the filesystem broker.
# honcho gives each process its own PORT counting up from --port; the web process is first, so it gets $(PORT).
run: seed
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

# Latency percentiles and throughput of GET /customer-profile against bare-framework floors (bench/, docs/benchmarks.md).
bench: install
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
