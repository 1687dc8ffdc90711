"""Smoke run of the benchmark suite (bench/suite.py) at 1,000 customers: the loader, gunicorn, wrk and every scenario
for a second each, so that `make bench` keeps working; it asserts the report's shape and the data set's rows, never a
speed (the real run is `make bench`, never CI). Needs PostgreSQL (COPY) and wrk (.ci/run installs Debian's wrk)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from crm.normalisation import address_fingerprint, search_key
from loyalty.account_numbers import is_valid_account_number

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 1000
SCENARIOS = [
    "floor/django",
    "floor/authenticated",
    "scan-and-go/found",
    "scan-and-go/unknown",
    "spi/get-customer",
    "spi/search-last-name",
    "spi/search-email",
    "spi/search-phone",
    "spi/search-loyalty-id",
    "spi/search-postal-code",
    "events/checkout",
    "events/bulk",
    "customer-360",
    "sessions/start",
    "coupons/validate",
    "coupons/redeem",
]


def _url(settings: dict, name: str) -> str:
    credentials = quote(settings["USER"] or "postgres")
    if settings.get("PASSWORD"):
        credentials += ":" + quote(settings["PASSWORD"])
    return f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"


@pytest.fixture
def smoke_database(django_db_setup, django_db_blocker):
    """A database of its own, empty (the loader migrates it), dropped afterwards.

    Not a copy of the test database: a transactional test earlier on the same worker flushes it, data migrations'
    rows (the default program) with the rest, and the loader then found no program.
    """
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("the benchmark suite needs PostgreSQL: run with DATABASE_URL=postgres://...")
        settings = dict(connection.settings_dict)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            settings["NAME"] = cursor.fetchone()[0]
        connection.close()
    if shutil.which("wrk") is None:
        pytest.skip("wrk is missing (Debian's package; .ci/run and `make bench` install it)")
    name = f"{settings['NAME']}_bench_smoke"
    with psycopg.connect(_url(settings, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _url(settings, name)
    finally:
        with psycopg.connect(_url(settings, "postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_suite_runs_every_scenario_at_1000_customers_and_reports_each(smoke_database, tmp_path):
    # when
    completed = subprocess.run(  # noqa: S603 (our own module, fixed arguments)
        [
            sys.executable,
            "-m",
            "bench.suite",
            "--customers",
            str(CUSTOMERS),
            "--database-url",
            smoke_database,
            "--seconds",
            "1",
            "--floor-seconds",
            "1",
            "--warmup",
            "0",
            "--bulk-size",
            "20",
            "--output",
            str(tmp_path),
            "--chart-dir",
            str(tmp_path),
            "--no-doc",
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # then: a report with every scenario, each measured, with its queries, shares and targets
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads((tmp_path / f"suite-{CUSTOMERS}.json").read_text())
    assert report["customers"] == CUSTOMERS
    assert report["settings"]["gunicorn_workers"] == 2
    assert report["settings"]["gunicorn_timeout_s"] == 30
    assert report["load"]["rows"]["customers"] == CUSTOMERS
    rows = {row["scenario"]: row for row in report["scenarios"]}
    assert list(rows) == SCENARIOS
    for name, row in rows.items():
        assert row["requests"] > 0, name
        assert row["unexpected_statuses"] == 0, (name, row["statuses"])
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"], name
        assert row["req_per_s"] > 0, name
        for floor in ("ratio_to_django_floor", "ratio_to_authenticated_floor"):
            ratio = row[floor]
            assert 0 < ratio["min"] <= ratio["value"] <= ratio["max"], (name, floor, ratio)
        assert isinstance(row["queries_per_request"], int), name
        assert all({"target", "value", "holds"} <= set(target) for target in row["targets"]), name
    assert rows["floor/django"]["queries_per_request"] == 0
    # before every path, and once more at the end
    assert len(rows["floor/django"]["runs"]) == len(SCENARIOS) - 2 + 1
    bulk = rows["events/bulk"]
    assert bulk["events_per_s"] == pytest.approx(bulk["statuses"]["200"] * 20 / bulk["seconds"], rel=0.01)
    assert bulk["queries_per_request"] > 20  # per bulk of 20 checkouts, not per checkout
    assert [target["target"] for target in rows["scan-and-go/found"]["targets"]] == [
        ">= 40% of the bare-Django floor",
        "p99 <= 4x p50",
        "no request timed out",
    ]
    assert (tmp_path / f"suite-{CUSTOMERS}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_loaded_rows_look_like_what_the_services_write(smoke_database, tmp_path):
    # given
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench.scale_data",
            "--customers",
            "200",
            "--database-url",
            smoke_database,
            "--output",
            str(tmp_path),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=300,
    )

    # when
    with psycopg.connect(smoke_database) as database:
        customers = database.execute(
            "SELECT first_name, last_name, first_name_search, last_name_search, public_id FROM crm_customer"
        ).fetchall()
        addresses = database.execute(
            "SELECT first_name, last_name, address_line1, address_line2, city, state, postal_code, country_code, "
            "phone, fingerprint FROM crm_address"
        ).fetchall()
        cards = database.execute("SELECT number, normalised_number FROM loyalty_card").fetchall()
        balances = database.execute(
            "SELECT count(*) FILTER (WHERE a.points_balance <> coalesce(l.points, 0)), count(*), "
            "sum(a.points_balance) FROM loyalty_loyaltyaccount a LEFT JOIN (SELECT account_id, sum(points) AS points "
            "FROM loyalty_pointsentry WHERE bucket = 'spendable' GROUP BY account_id) l ON l.account_id = a.id"
        ).fetchone()
        purchases_without_lot = database.execute(
            "SELECT count(*) FROM loyalty_purchase p WHERE NOT EXISTS (SELECT 1 FROM loyalty_pointsentry e "
            "WHERE e.purchase_id = p.id AND e.is_lot AND e.points = p.points_earned)"
        ).fetchone()[0]

    # then
    assert len(customers) == 200
    assert all(row[2] == search_key(row[0]) and row[3] == search_key(row[1]) for row in customers)
    assert len({row[4] for row in customers}) == 200
    assert all(row[4].startswith("C") and len(row[4]) == 13 for row in customers)
    fields = ("first_name", "last_name", "address_line1", "address_line2", "city", "state", "postal_code")
    assert all(
        row[9] == address_fingerprint(dict(zip((*fields, "country_code", "phone"), row[:9], strict=True)))
        for row in addresses
    )
    assert len(cards) == 300
    assert all(is_valid_account_number(number) and number == normalised for number, normalised in cards)
    assert balances[0] == 0
    assert balances[1] == 200
    assert balances[2] > 0
    assert purchases_without_lot == 0
    assert json.loads((tmp_path / "load-200.json").read_text())["rows"]["customers"] == 200
