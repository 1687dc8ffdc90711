"""Builds the benchmark suite's data set on PostgreSQL: N customers as the services would have written them, fast.

    make bench-scale SCALE=20000            # into postgres://postgres@127.0.0.1:5432/retail_crm_bench_20000
    make bench-scale SCALE=1000000          # the issue-15 size, a few minutes
    .venv/bin/python -m bench.scale_data --customers 1000 --database-url postgres://…/somewhere

Per customer: the profile (derived search columns, a public id), one address (its fingerprint), the seven consents,
an enrolled loyalty account (12-digit account number with its Luhn check digit), a digital card carrying the account
number and, for every second customer, a physical card with a 16-digit Luhn number; 1-3 purchases spread over the
last 12 weeks, each with its earn lot in the ledger, and the account's cached balance set from the ledger afterwards
(so balance == ledger by construction). Every tenth customer holds a voucher of a bench coupon; a pool of anonymous
vouchers is there for the redeem scenario. Rows are streamed with COPY (psycopg) or written by set-based SQL, never
the ORM row by row; the database's tables of customers and what hangs off them are emptied first, so point this
only at a database of its own.

Derived values come from the product's own pure functions (crm/normalisation.py, crm/ids.py alphabet,
loyalty/account_numbers.py), so a search or a scan finds these rows exactly as it finds rows the services wrote.
"""

import argparse
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FIRST_NAMES = (
    "Alex", "Maria", "Jonas", "Léa", "Sofia", "Noah", "Emma", "Lukas", "Zoé", "Mateo", "Anna", "Jürgen", "Chloé",
    "Hannah", "Oliver", "Amélie", "Paul", "Ines", "David", "Sara", "Élodie", "Felix", "Nora", "Tomás",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Miller", "Schmidt", "García", "Dubois", "Rossi", "Novak", "Jensen", "Moreau", "Weber", "Silva",
    "Martin", "Bernard", "Thompson", "Johnson", "Fischer", "Schneider", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Lefèvre", "Fernández", "López", "Kowalski", "Nowak", "Andersen", "Nielsen", "Brown", "Wilson", "Taylor",
    "Davies", "Evans", "Roberts", "Walker", "Wright", "Thomas", "Robinson", "Wood", "Hughes", "Mullins", "Muster",
)  # fmt: skip
CITIES = (("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Denver", "CO", "802"))
LANGUAGES = ("en", "de", "fr", "es", "")
PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Vouchers: every HOLDER_EVERY-th customer holds one; ANONYMOUS_VOUCHERS are free for the redeem scenario.
HOLDER_EVERY = 10
ANONYMOUS_VOUCHERS_MIN = 20_000
COUPON_CODE = "bench-ten-off"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
LOADED_TABLES = (
    "crm_customer", "crm_address", "crm_consents", "loyalty_loyaltyaccount", "loyalty_card", "loyalty_purchase",
    "loyalty_pointsentry", "loyalty_voucher",
)  # fmt: skip


@dataclass(frozen=True)
class LoadReport:
    customers: int
    seconds: float
    rows: dict[str, int]
    steps: dict[str, float]


def luhn_number(body: str) -> str:
    from loyalty.account_numbers import luhn_check_digit

    return body + luhn_check_digit(body)


def account_number_for(index: int) -> str:
    # A permutation of 11-digit bodies (multiplier coprime to the range): unique, not sequential, never a leading 0.
    return luhn_number(str(10_000_000_000 + (index * 7_919_000_003) % 89_999_999_999))


def physical_card_number_for(index: int) -> str:
    return luhn_number(str(600_000_000_000_000 + (index * 104_729) % 399_999_999_999_999))


def phone_for(index: int) -> str:
    # E.164 as normalise_phone stores it: US numbers in the 555-01xx fiction range spread over many area codes.
    return f"+1{200 + index % 700:03d}{555_0000 + (index // 700) % 10_000:07d}"


def email_for(index: int) -> str:
    return f"member{index}@bench.example"


def postal_code_for(index: int) -> str:
    return f"{CITIES[index % len(CITIES)][2]}{index % 100:02d}"


def merchant_id_for(index: int) -> str:
    return f"shop-{index}"


def _public_ids(rng: random.Random, prefix: str, count: int) -> list[str]:
    ids: set[str] = set()
    while len(ids) < count:
        bits = rng.getrandbits(60)
        ids.add(prefix + "".join(PUBLIC_ID_ALPHABET[(bits >> (5 * shift)) & 31] for shift in range(12)))
    return list(ids)


def _copy(cursor, table: str, columns: tuple[str, ...], rows: Iterator[tuple]) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(customers: int, *, seed: int = 20261204, log=print) -> LoadReport:  # noqa: PLR0915 (one linear script)
    """Empty the member tables and load `customers` customers; Django must be set up on the target database."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.normalisation import address_fingerprint, normalise_postal_code, search_key
    from loyalty.models import CouponDefinition, Program, Tier

    if connection.vendor != "postgresql":
        raise SystemExit("bench.scale_data needs PostgreSQL (COPY); set DATABASE_URL to a PostgreSQL database")
    started = time.perf_counter()
    steps: dict[str, float] = {}
    rows: dict[str, int] = {}

    def step(name: str, since: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - since, 2)
        log(f"  {name}: {steps[name]:.1f} s")
        return now

    call_command("migrate", verbosity=0, interactive=False)
    mark = step("migrate", started)
    rng = random.Random(seed)
    now = timezone.now()
    program = Program.objects.get(is_default=True)
    member_tier = Tier.objects.filter(program=program).order_by("rank").first()
    # Higher tiers, so that a checkout recalculates the member's tier as it does in a real program.
    for rank, code, threshold in ((1, "silver", 1000), (2, "gold", 5000)):
        Tier.objects.get_or_create(
            program=program, code=code, defaults={"rank": rank, "name": code, "threshold": threshold}
        )
    coupon, _ = CouponDefinition.objects.get_or_create(
        program=program, code=COUPON_CODE, defaults={"name": "10 off", "kind": "amount", "value": 10}
    )
    name_keys = {name: search_key(name) for name in FIRST_NAMES + LAST_NAMES}

    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own cursor, for COPY
        # TRUNCATE … CASCADE: everything that hangs off customers (accounts, cards, ledger, vouchers, outbox…).
        cursor.execute("TRUNCATE crm_customer, loyalty_voucher RESTART IDENTITY CASCADE")
        # Foreign keys are checked by triggers, one call per row at commit (deferred): at 1,000,000 customers that
        # is most of the load's time. Every reference here is built to exist (ids assigned above), so the triggers
        # are off for this transaction only (superuser); ledger_mismatches() and the suite's requests check the rows.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # Secondary indexes (every one not backing a constraint: foreign-key, search and partial unique indexes) are
        # dropped for the load and built once at the end, by sorting, which costs a fraction of maintaining them row
        # by row; the transaction restores them if anything fails, and a partial unique index refuses a duplicate
        # when it is rebuilt.
        cursor.execute(
            """
            SELECT idx.indexname, idx.indexdef FROM pg_indexes AS idx
            WHERE idx.schemaname = current_schema() AND idx.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = idx.indexname)
            """,
            [list(LOADED_TABLES)],
        )
        secondary_indexes = cursor.fetchall()
        for name, _definition in secondary_indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        mark = step("truncate", mark)

        customer_ids = _public_ids(rng, "C", customers)
        address_ids = _public_ids(rng, "A", customers)
        names = [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(customers)]

        def customer_rows() -> Iterator[tuple]:
            for index in range(customers):
                first, last = names[index]
                postal = postal_code_for(index)
                yield (
                    index + 1, now, now, customer_ids[index], "active", "", first, last, name_keys[first],
                    name_keys[last], email_for(index), phone_for(index), "", "", LANGUAGES[index % len(LANGUAGES)],
                    "", merchant_id_for(index), "", "US", postal, normalise_postal_code(postal), "{}", index + 1,
                )  # fmt: skip

        rows["customers"] = _copy(
            cursor,
            "crm_customer",
            (
                "id",
                "created_at",
                "updated_at",
                "public_id",
                "status",
                "salutation",
                "first_name",
                "last_name",
                "first_name_search",
                "last_name_search",
                "email",
                "phone_mobile",
                "phone_home",
                "gender",
                "preferred_language",
                "customer_group",
                "alternate_customer_id",
                "tax_id",
                "country",
                "postal_code",
                "postal_code_search",
                "custom_attributes",
                "profile_address_id",
            ),  # fmt: skip
            customer_rows(),
        )
        mark = step("customers (COPY)", mark)

        def address_rows() -> Iterator[tuple]:
            for index in range(customers):
                first, last = names[index]
                city, state, _prefix = CITIES[index % len(CITIES)]
                fields = {
                    "first_name": first,
                    "last_name": last,
                    "address_line1": f"{1 + index % 9999} Main Street",
                    "address_line2": "",
                    "city": city,
                    "state": state,
                    "postal_code": postal_code_for(index),
                    "country_code": "US",
                    "phone": phone_for(index),
                }
                yield (
                    index + 1, now, now, address_ids[index], 0, first, last, fields["address_line1"], "", city, state,
                    fields["postal_code"], normalise_postal_code(fields["postal_code"]), "US", fields["phone"],
                    address_fingerprint(fields), index + 1,
                )  # fmt: skip

        rows["addresses"] = _copy(
            cursor,
            "crm_address",
            (
                "id",
                "created_at",
                "updated_at",
                "public_id",
                "position",
                "first_name",
                "last_name",
                "address_line1",
                "address_line2",
                "city",
                "state",
                "postal_code",
                "postal_code_search",
                "country_code",
                "phone",
                "fingerprint",
                "customer_id",
            ),  # fmt: skip
            address_rows(),
        )
        mark = step("addresses (COPY)", mark)

        # Consents: set-based, a spread of given, refused and never-asked (NULL) answers.
        cursor.execute(
            """
            INSERT INTO crm_consents (id, created_at, updated_at, customer_id, agree_to_tc, direct_mail_sign_up,
                e_receipt, loyalty_sign_up, news_letter_sign_up, phone_sign_up, sms_sign_up)
            SELECT n, %(now)s, %(now)s, n, true, (n %% 3 = 0), CASE WHEN n %% 4 = 0 THEN NULL ELSE n %% 2 = 0 END,
                true, (n %% 5 < 2), CASE WHEN n %% 7 = 0 THEN NULL ELSE false END, (n %% 6 = 0)
            FROM generate_series(1, %(count)s) AS n
            """,
            {"now": now, "count": customers},
        )
        rows["consents"] = cursor.rowcount
        mark = step("consents (SQL)", mark)

        account_numbers = [account_number_for(index) for index in range(customers)]
        rows["accounts"] = _copy(
            cursor,
            "loyalty_loyaltyaccount",
            (
                "id",
                "created_at",
                "updated_at",
                "account_number",
                "state",
                "enrolled_at",
                "points_balance",
                "store_credit",
                "address_id",
                "customer_id",
                "program_id",
                "tier_id",
            ),  # fmt: skip
            (
                (
                    index + 1,
                    now,
                    now,
                    account_numbers[index],
                    "enrolled",
                    now,
                    0,
                    "0.00",
                    index + 1,
                    index + 1,
                    program.pk,
                    member_tier.pk if member_tier else None,
                )
                for index in range(customers)
            ),  # fmt: skip
        )
        mark = step("accounts (COPY)", mark)

        # Cards: the digital card carries the account number (as enrolment issues it); every second member also
        # holds a physical card with its own Luhn number. Normalised as loyalty/card_numbers.py does (no leading 0).
        cursor.execute(
            """
            INSERT INTO loyalty_card (created_at, updated_at, number, normalised_number, kind, status, issued_at,
                status_reason, account_id)
            SELECT %(now)s, %(now)s, account_number, account_number, 'digital', 'active', %(now)s, '', id
            FROM loyalty_loyaltyaccount ORDER BY id
            """,
            {"now": now},
        )
        rows["cards"] = cursor.rowcount
        rows["cards"] += _copy(
            cursor,
            "loyalty_card",
            (
                "created_at",
                "updated_at",
                "number",
                "normalised_number",
                "kind",
                "status",
                "issued_at",
                "status_reason",
                "account_id",
            ),  # fmt: skip
            (
                (now, now, number, number, "physical", "active", now, "", index + 1)
                for index in range(0, customers, 2)
                for number in (physical_card_number_for(index),)
            ),
        )
        mark = step("cards (SQL + COPY)", mark)

        # Purchases over the last 12 weeks (1-3 per member), each with its earn lot, points as the program's
        # earn rate rounds them down; then every balance from its ledger, in one statement.
        cursor.execute(
            """
            INSERT INTO loyalty_purchase (created_at, updated_at, transaction_id, channel, currency, total,
                eligible_total, items, points_base, points_bonus, points_earned, points_burned, refunded_total,
                points_taken_back, points_returned, points_forgiven, state, purchased_at, request_fingerprint,
                first_response, account_id, program_id)
            SELECT at, at, 'BENCH-' || a || '-' || k, 'pos', %(currency)s, total, total,
                jsonb_build_array(jsonb_build_object('product_id', 'SKU-' || (a * 7 + k) %% 500, 'quantity', 1,
                    'subtotal', total::text)),
                floor(total * %(rate)s)::int, 0, floor(total * %(rate)s)::int, 0, 0, 0, 0, 0, 'accepted', at,
                encode(sha256(convert_to('BENCH-' || a || '-' || k || ':' || total, 'UTF8')), 'hex'), '{}', a,
                %(program)s
            FROM generate_series(1, %(count)s) AS a
            CROSS JOIN LATERAL generate_series(0, a %% 3) AS k
            CROSS JOIN LATERAL (SELECT (5 + (a * 31 + k * 17) %% 200 + 0.50)::numeric(14, 2) AS total,
                %(now)s - make_interval(days => (a * 13 + k * 29) %% 84, mins => (a + k) %% 600) AS at) AS v
            ORDER BY a, k
            """,
            {
                "currency": program.currency,
                "rate": program.earn_rate,
                "program": program.pk,
                "count": customers,
                "now": now,
            },
        )
        rows["purchases"] = cursor.rowcount
        mark = step("purchases (SQL)", mark)
        cursor.execute(
            """
            INSERT INTO loyalty_pointsentry (kind, bucket, points, is_lot, expires_at, reservation, idempotency_key,
                source, note, created_at, account_id, purchase_id)
            SELECT 'earn', 'spendable', points_earned, true, purchased_at + %(expiry)s::interval, '', '', 'purchase',
                'Checkout ' || transaction_id, purchased_at, account_id, id
            FROM loyalty_purchase WHERE points_earned > 0 ORDER BY id
            """,
            {"expiry": f"{program.points_expiry_days} days" if program.points_expiry_days is not None else None},
        )
        rows["points_entries"] = cursor.rowcount
        cursor.execute(
            """
            UPDATE loyalty_loyaltyaccount AS account SET points_balance = ledger.points
            FROM (SELECT account_id, sum(points) AS points FROM loyalty_pointsentry WHERE bucket = 'spendable'
                  GROUP BY account_id) AS ledger
            WHERE ledger.account_id = account.id
            """
        )
        mark = step("ledger and balances (SQL)", mark)

        anonymous = max(ANONYMOUS_VOUCHERS_MIN, customers // 20)
        cursor.execute(
            """
            INSERT INTO loyalty_voucher (created_at, updated_at, code, normalised_code, status, issued_at,
                redeemed_transaction_id, customer_id, definition_id, origin)
            SELECT %(now)s, %(now)s, code, code, 'issued', %(now)s, '', holder, %(coupon)s, 'manual'
            FROM (SELECT 'BENCHH' || lpad(n::text, 8, '0') AS code, n AS holder
                  FROM generate_series(1, %(count)s, %(every)s) AS n
                  UNION ALL
                  SELECT 'BENCHA' || lpad(n::text, 8, '0'), NULL FROM generate_series(1, %(anonymous)s) AS n) AS v
            """,
            {"now": now, "coupon": coupon.pk, "count": customers, "every": HOLDER_EVERY, "anonymous": anonymous},
        )
        rows["vouchers"] = cursor.rowcount
        mark = step("vouchers (SQL)", mark)
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in secondary_indexes:
            cursor.execute(definition)
        mark = step(f"{len(secondary_indexes)} secondary indexes", mark)
        for table in ("crm_customer", "crm_address", "crm_consents", "loyalty_loyaltyaccount"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
    mark = step("commit", mark)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    step("analyze", mark)
    return LoadReport(customers, round(time.perf_counter() - started, 1), rows, steps)


def dataset_size() -> int:
    """How many customers the database holds (0 when it was never loaded or not migrated yet)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('crm_customer') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT count(*) FROM crm_customer")
        return cursor.fetchone()[0]


def ledger_mismatches() -> int:
    """Accounts whose cached balance differs from their spendable ledger (0 after a load)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM loyalty_loyaltyaccount AS account
            LEFT JOIN (SELECT account_id, sum(points) AS points FROM loyalty_pointsentry WHERE bucket = 'spendable'
                       GROUP BY account_id) AS ledger ON ledger.account_id = account.id
            WHERE account.points_balance <> coalesce(ledger.points, 0)
            """
        )
        return cursor.fetchone()[0]


def default_database_url(customers: int) -> str:
    return f"postgres://postgres@127.0.0.1:5432/retail_crm_bench_{customers}"


def ensure_database(url: str) -> None:
    """Create the database the URL names if it does not exist (connecting to the server's `postgres` database)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(database_url: str) -> None:
    import os

    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database-url", help="default: postgres://postgres@127.0.0.1:5432/retail_crm_bench_<N>")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="directory of load-<N>.json")
    args = parser.parse_args()
    url = args.database_url or default_database_url(args.customers)
    ensure_database(url)
    setup_django(url)
    print(f"loading {args.customers:,} customers into {url}")
    report = load(args.customers)
    total = sum(report.rows.values())
    print(f"{total:,} rows in {report.seconds:.1f} s: {report.rows}")
    mismatches = ledger_mismatches()
    print(f"accounts whose balance differs from the ledger: {mismatches}")
    if mismatches:
        raise SystemExit(1)
    # The suite's report quotes the load time of its data set (bench/report.py).
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"load-{args.customers}.json").write_text(json.dumps(report.__dict__, indent=2) + "\n")


if __name__ == "__main__":
    main()
