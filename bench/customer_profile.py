"""Benchmark of GET /customer-profile, the Scan & Go hot path, against bare-framework floors in the same run.

    make bench                         # SQLite under var/bench/, 20,000 members, 2 gunicorn workers
    make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_crm_bench
    .venv/bin/python -m bench.customer_profile --members 50000 --seconds 20 --concurrency 8

It builds its own database (a fresh SQLite file, or the given PostgreSQL database, whose tables it empties),
seeds members with cards and Scan & Go vouchers in bulk, starts gunicorn with the production middleware stack
(bench/settings.py), and measures, each for the same time at the same concurrency, with the same client:

    floor/django          a bare Django view (middleware, JSON), no database: the framework's own floor
    floor/authenticated   DRF + our API-key authentication and scope check: what every API call pays
    profile/found         /customer-profile for random members' cards (device unlocks)
    profile/coupons       /customer-profile for members holding Scan & Go vouchers
    profile/unknown       /customer-profile for card numbers nobody holds (404, empty body)

The client (bench/loadgen.py) runs on the same 2-core machine as the server: read the product's numbers
against the floors, not as absolutes. Results are printed and written to var/bench/customer_profile.json.
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare_database(members: int) -> tuple[str, list[str], list[str]]:
    """Migrate, seed `members` members in bulk; return (API key, card numbers, card numbers holding vouchers)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return _seed(members)


def _seed(members: int) -> tuple[str, list[str], list[str]]:
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.ids import generate_customer_id
    from crm.models import Customer
    from crm.normalisation import search_key
    from crm.services.api_clients import api_client_create
    from loyalty.card_numbers import card_number_normalise
    from loyalty.models import Card, CouponDefinition, LoyaltyAccount, Program, Tier, Voucher

    rng = random.Random(20261122)  # the same members on every run
    now = timezone.now()
    program = Program.objects.get(is_default=True)
    tiers = list(Tier.objects.filter(program=program).order_by("rank"))
    first_names = ["Alex", "Maria", "Jonas", "Léa", "Sofia", "Noah", "Emma", "Lukas", "Zoé", "Mateo"]
    last_names = ["Muster", "García", "Dubois", "Schmidt", "Rossi", "Novak", "Jensen", "Moreau", "Weber", "Silva"]
    locales = ["de", "fr", "es", "en", ""]

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A benchmark database of its own: start from empty member tables so counts are what we seeded.
            Voucher.objects.all().delete()
            Card.objects.all().delete()
        customers = []
        for number in range(members):
            first, last = rng.choice(first_names), rng.choice(last_names)
            customers.append(
                Customer(
                    public_id=generate_customer_id(),
                    first_name=first,
                    last_name=last,
                    first_name_search=search_key(first),
                    last_name_search=search_key(last),
                    email=f"member{number}@bench.example",
                    preferred_language=rng.choice(locales),
                )
            )
        Customer.objects.bulk_create(customers, batch_size=2000)
        accounts = [
            LoyaltyAccount(
                customer=customer,
                program=program,
                account_number=f"7{number:011d}",
                tier=rng.choice(tiers) if tiers else None,
                enrolled_at=now,
                points_balance=rng.randrange(0, 5000),
            )
            for number, customer in enumerate(customers)
        ]
        LoyaltyAccount.objects.bulk_create(accounts, batch_size=2000)
        card_numbers = [f"9{number:012d}" for number in range(members)]
        Card.objects.bulk_create(
            [
                Card(
                    account=account,
                    number=card_number,
                    normalised_number=card_number_normalise(card_number, strip_leading_zeros=False),
                    issued_at=now,
                )
                for account, card_number in zip(accounts, card_numbers, strict=True)
            ],
            batch_size=2000,
        )
        definition, _ = CouponDefinition.objects.get_or_create(
            program=program,
            code="bench-scan-and-go",
            defaults={"name": "10 % off your Scan & Go basket", "kind": "percent", "value": 10},
        )
        holders = rng.sample(range(members), k=max(1, members // 10))
        Voucher.objects.bulk_create(
            [
                Voucher(
                    definition=definition,
                    code=f"BENCH{index:08d}",
                    normalised_code=f"BENCH{index:08d}",
                    customer=customers[index],
                    issued_at=now,
                )
                for index in holders
            ],
            batch_size=2000,
        )
    _client, key = api_client_create(name=f"bench-{time.time_ns()}", scopes=["scan_and_go"])
    return key, card_numbers, [card_numbers[index] for index in holders]


def _start_server(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own gunicorn, fixed arguments)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/floor/django", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="open connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", PYTHONPATH=str(ROOT))
    if not env.get("DATABASE_URL"):
        database = BENCH_DIR / "bench.sqlite3"
        for leftover in BENCH_DIR.glob("bench.sqlite3*"):
            leftover.unlink()
        env["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.update({"DJANGO_SETTINGS_MODULE": env["DJANGO_SETTINGS_MODULE"], "DATABASE_URL": env["DATABASE_URL"]})
    sys.path.insert(0, str(ROOT))

    started = time.perf_counter()
    key, cards, voucher_cards = _prepare_database(args.members)
    print(
        f"seeded {args.members} members ({len(voucher_cards)} with vouchers) in {time.perf_counter() - started:.1f} s"
    )

    from bench.loadgen import run

    port = _free_port()
    server = _start_server(port, args.workers, env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    rng = random.Random(7)
    found = [f"/customer-profile?loyaltyCardNumber={card}" for card in rng.sample(cards, k=min(len(cards), 5000))]
    coupons = [f"/customer-profile?loyaltyCardNumber={card}" for card in voucher_cards[:5000]]
    unknown = [f"/customer-profile?loyaltyCardNumber=8{rng.randrange(10**12):012d}" for _ in range(5000)]
    scenarios = [
        ("floor/django", ["/bench/floor/django"]),
        ("floor/authenticated", ["/bench/floor/authenticated"]),
        ("profile/found", found),
        ("profile/coupons", coupons),
        ("profile/unknown", unknown),
    ]
    results = []
    try:
        for name, paths in scenarios:
            run(name, base, paths, headers=headers, concurrency=args.concurrency, seconds=1.0)  # warm-up
            results.append(run(name, base, paths, headers=headers, concurrency=args.concurrency, seconds=args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)

    floor = results[0].throughput
    rows = [dict(result.row(), vs_django_floor=f"{result.throughput / floor:.0%}") for result in results]
    header = (
        "scenario",
        "requests",
        "req_per_s",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "max_ms",
        "vs_django_floor",
        "statuses",
    )
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[column]) for column in header))
    report = {
        "database": env["DATABASE_URL"].split("://", 1)[0],
        "members": args.members,
        "seconds_per_scenario": args.seconds,
        "concurrency": args.concurrency,
        "gunicorn_workers": args.workers,
        "cpu_count": os.cpu_count(),
        "results": rows,
    }
    (BENCH_DIR / "customer_profile.json").write_text(json.dumps(report, indent=2))
    print(f"client and server shared {os.cpu_count()} cores; results in var/bench/customer_profile.json")


if __name__ == "__main__":
    main()
