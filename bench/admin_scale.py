"""The customer admin at a million rows, on PostgreSQL: what each changelist page costs, query by query.

It fills its own database with 1,000,000 customers and as many loyalty accounts (INSERT ... SELECT over
generate_series: about a minute and a half, done once and reused while the row count matches), runs VACUUM ANALYZE,
then loads each page through Django's test client as a superuser: the customer changelist unfiltered, searched by a
last-name prefix (a rare and a common name), by phone, by email, by loyalty account number and by customer id, and
its page 2000; one customer's page; and, for comparison, the loyalty account changelist. For each page it prints
the wall time (median of a few loads after a warm-up) and every query the page ran with its EXPLAIN ANALYZE
execution time and access paths, and it exits non-zero when a query scans crm_customer sequentially or counts it
without a LIMIT. Wall times include rendering and vary with the machine's load; the execution times do not.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_admin_scale python bench/admin_scale.py [--customers N]

The database named in DATABASE_URL is created when missing. Never point it at a database whose data matters: the
customer and account tables are emptied when their row count differs from --customers.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from crm.models import Customer  # noqa: E402
from loyalty.models import LoyaltyAccount, Program  # noqa: E402

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
    "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
    "Mitchell Carter Roberts Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Rossi Russo "
    "Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Dubois Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Kowalski Nowak Wisniewski Tanaka Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Okafor Okeke Mensah "
    "Silva Santos Oliveira Souza Costa Pereira"
).split()
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Donald Ashley Paul Emily "
    "Steven Kimberly Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy "
    "Stephanie Ronald Rebecca"
).split()
# The customer every single-customer search looks for: a unique last name, and a row deep inside the table.
TARGET = 123_456
REPEATS = 5
SEQ_SCAN_ON_CUSTOMERS = re.compile(r"Seq Scan on crm_customer\b")
ACCESS_PATH = re.compile(
    r"((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)?"
    r"(?: using \w+)? on \w+)"
)


@dataclass
class QueryReport:
    sql: str
    milliseconds: float
    access_paths: list[str]
    plan: str


def _ensure_database() -> None:
    settings_dict = connection.settings_dict
    if connection.vendor != "postgresql":
        sys.exit("bench/admin_scale.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    params = {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": settings_dict["PORT"] or 5432,
        "user": settings_dict["USER"],
        "dbname": "postgres",
        "autocommit": True,
    }
    if settings_dict["PASSWORD"]:
        params["password"] = settings_dict["PASSWORD"]
    with psycopg.connect(**params) as admin_connection:
        exists = admin_connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings_dict["NAME"]]
        ).fetchone()
        if not exists:
            admin_connection.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')


def _column_default(field: models.Field) -> tuple[str, list[object]]:
    """A constant SQL expression (and its parameters) for a column the bench gives no value of its own."""
    if field.null:
        return "NULL", []
    if isinstance(field, models.JSONField):
        return "%s::jsonb", [json.dumps(field.get_default())]
    if isinstance(field, models.DateTimeField):
        return "now()", []
    return "%s", [field.get_prep_value(field.get_default())]


def _insert_select(model: type[models.Model], count: int, expressions: dict[str, str]) -> None:
    """INSERT INTO <model's table> SELECT ... FROM generate_series(1, count) AS g, with `expressions` (SQL over g)
    for the named columns and each other column's default."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in expressions:
            values.append(expressions[field.column])
        else:
            expression, expression_params = _column_default(field)
            values.append(expression)
            params.extend(expression_params)
    table = connection.ops.quote_name(model._meta.db_table)
    # Names come from the models and expressions from this script; the only outside value is a parameter.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM generate_series(1, %s) AS g"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, count])


def _fill(count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_customer")
        if cursor.fetchone()[0] == count:
            print(f"Reusing {count:,} customers.")
            return
        print(f"Generating {count:,} customers and loyalty accounts ...", flush=True)
        cursor.execute("TRUNCATE crm_customer, loyalty_loyaltyaccount RESTART IDENTITY CASCADE")
    last_names = "ARRAY[" + ", ".join(f"'{name}'" for name in LAST_NAMES) + "]"
    first_names = "ARRAY[" + ", ".join(f"'{name}'" for name in FIRST_NAMES) + "]"
    last_name = f"CASE WHEN g = {TARGET} THEN 'Lovelace' ELSE ({last_names})[1 + mod(g, {len(LAST_NAMES)})] END"
    first_name = f"({first_names})[1 + mod(g / 7, {len(FIRST_NAMES)})]"
    started = time.perf_counter()
    _insert_select(
        Customer,
        count,
        {
            "created_at": f"now() - make_interval(secs => {count} - g)",
            "updated_at": "now()",
            "public_id": "'C' || lpad(g::text, 12, '0')",
            "status": "'active'",
            "first_name": first_name,
            "last_name": last_name,
            "first_name_search": f"lower({first_name})",
            "last_name_search": f"lower({last_name})",
            "email": "'customer' || g || '@example.com'",
            "phone_mobile": "'+1217' || lpad(g::text, 7, '0')",
            "postal_code": "lpad(mod(g, 100000)::text, 5, '0')",
            "postal_code_search": "lpad(mod(g, 100000)::text, 5, '0')",
        },
    )
    print(f"  customers: {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    program = Program.objects.get(is_default=True)
    _insert_select(
        LoyaltyAccount,
        count,
        {
            "customer_id": "g",
            "program_id": str(program.pk),
            "account_number": "'9' || lpad(g::text, 11, '0')",
            "state": "'enrolled'",
            "enrolled_at": "now()",
        },
    )
    print(f"  accounts: {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE crm_customer")
        cursor.execute("VACUUM ANALYZE loyalty_loyaltyaccount")
    print(f"  vacuum analyze: {time.perf_counter() - started:.1f} s", flush=True)


def _explain(sql: str) -> QueryReport:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    milliseconds = float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1))
    return QueryReport(sql=sql, milliseconds=milliseconds, access_paths=ACCESS_PATH.findall(plan), plan=plan)


def _summary(sql: str) -> str:
    """The query shortened for a table row: unqualified column names, the outer select list elided."""
    sql = re.sub(r'"\w+"\."(\w+)"', r"\1", sql).replace('"', "")
    sql = re.sub(r"^SELECT (?!COUNT).*? FROM ", "SELECT … FROM ", sql)
    sql = re.sub(r"'\d{4}-\d\d-\d\d [^']*'::timestamptz", "now", sql)
    return (sql if len(sql) <= 150 else sql[:147] + "...").replace("|", "/")


def _stock_count_milliseconds() -> float:
    """What Django's default paginator would run on every unfiltered page load."""
    return _explain("SELECT COUNT(*) FROM crm_customer").milliseconds


def _measure(client: Client, name: str, url: str, params: dict[str, str | int]) -> tuple[list[str], bool]:
    client.get(url, params)
    timings = []
    for _repeat in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (name, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    rows = ""
    if "cl" in response.context:
        change_list = response.context["cl"]
        shown = getattr(change_list.paginator, "count_text", None) or change_list.result_count
        rows = f"; {len(change_list.result_list)} rows shown of {shown}"
    query_string = "&".join(f"{key}={value}" for key, value in params.items())
    lines = [
        f"### {name}: `{url}{'?' + query_string if query_string else ''}`",
        "",
        f"page: median {statistics.median(timings):.1f} ms over {REPEATS} loads; {len(captured)} queries{rows}",
        "",
        "| # | query | EXPLAIN ANALYZE ms | access paths |",
        "|---|---|---|---|",
    ]
    failed = False
    for number, query in enumerate(captured, start=1):
        sql = query["sql"]
        report = _explain(sql)
        bare_count = "COUNT(" in sql.upper() and "LIMIT" not in sql.upper() and "crm_customer" in sql
        if SEQ_SCAN_ON_CUSTOMERS.search(report.plan) or bare_count:
            failed = True
            print(report.plan)
        paths = "; ".join(dict.fromkeys(report.access_paths)) or "-"
        lines.append(f"| {number} | `{_summary(sql)}` | {report.milliseconds:.3f} | {paths} |")
    return lines, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    arguments = parser.parse_args()
    _ensure_database()
    call_command("migrate", verbosity=0)
    _fill(arguments.customers)
    setup_test_environment()
    user_model = get_user_model()
    admin_user = user_model.objects.filter(username="bench-admin").first() or user_model.objects.create_superuser(
        username="bench-admin", email="", password=None
    )
    client = Client()
    client.force_login(admin_user)
    target = Customer.objects.get(public_id=f"C{TARGET:012d}")
    account_number = LoyaltyAccount.objects.get(customer=target).account_number
    changelist = "/admin/crm/customer/"
    scenarios = [
        ("unfiltered", changelist, {}),
        ("last name prefix, one match", changelist, {"q": "lovel"}),
        ("last name prefix, common name", changelist, {"q": "smi"}),
        ("phone", changelist, {"q": f"(217) {target.phone_mobile[5:8]}-{target.phone_mobile[8:]}"}),
        ("email", changelist, {"q": target.email.upper()}),
        ("loyalty account number", changelist, {"q": account_number}),
        ("customer id", changelist, {"q": target.public_id.lower()}),
        ("page 2000", changelist, {"p": 2000}),
        ("the customer page", f"{changelist}{target.pk}/change/", {}),
        # The loyalty accounts' changelist (loyalty/admin/accounts.py), for comparison: its own paginator and ordering.
        ("loyalty accounts, unfiltered", "/admin/loyalty/loyaltyaccount/", {}),
    ]
    print(f"\n## Customer admin at {Customer.objects.order_by().count():,} customers\n")
    stock_count = _stock_count_milliseconds()
    print(f"The full count the stock admin runs on every page load takes {stock_count:.1f} ms here.\n")
    failed_pages = []
    for name, url, params in scenarios:
        lines, failed = _measure(client, name, url, params)
        if failed:
            failed_pages.append(name)
        print("\n".join(lines) + "\n", flush=True)
    if failed_pages:
        sys.exit(f"Scanned crm_customer sequentially or counted it whole (plans above): {', '.join(failed_pages)}.")


if __name__ == "__main__":
    main()
