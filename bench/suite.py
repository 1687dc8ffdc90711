"""The benchmark suite (issue 15): every hot path through gunicorn, driven by wrk, beside the framework's floors.

    make bench-scale SCALE=1000000      # the data set, once (bench/scale_data.py)
    make bench SCALE=1000000            # the run: bench/results/suite-1000000.json, docs/benchmarks/suite-1000000.png,
                                        # docs/benchmarks.md regenerated (bench/report.py)
    .venv/bin/python -m bench.suite --customers 1000 --seconds 1 --output /tmp/x   # what the smoke test runs

gunicorn runs the product with the production middleware (bench/settings.py), 2 sync workers and a deliberate
timeout, on the PostgreSQL database of that scale (DATABASE_URL, default retail_crm_bench_<N>, loaded first if it
does not hold N customers). wrk (Debian's package; a native load generator that never caps the floor) sends the
requests of each scenario with bench/wrk/requests.lua: 1 thread and 4 connections by default, the load generator on
the same cores as the server, so only the ratios to the floors mean something. The two floors (a bare Django view;
DRF with our API-key authentication) run before every path and once more at the end, so that each ratio comes with
its spread over all floor runs of the same run. Queries per request are counted in-process with Django's test
client (CaptureQueriesContext) on the same database.
"""

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
CHART_DIR = ROOT / "docs" / "benchmarks"
LUA_SCRIPT = ROOT / "bench" / "wrk" / "requests.lua"
FLOORS = ("floor/django", "floor/authenticated")
CUSTOMER_360_EMBEDS = "expiry_schedule,upgrade,renewal,transactions,addresses,coupons"
# issue 15's targets: the share of the bare-Django floor's throughput a path must reach, and the bulk's rate.
TARGET_SHARES = {
    "scan-and-go/found": 0.40,
    "spi/get-customer": 0.15,
    "spi/search-last-name": 0.15,
    "spi/search-email": 0.15,
    "spi/search-phone": 0.15,
    "spi/search-loyalty-id": 0.15,
    "spi/search-postal-code": 0.15,
    "events/checkout": 0.10,
}
BULK_EVENTS_PER_SECOND_TARGET = 300
P99_OVER_P50_MAX = 4.0
BULK_REQUESTS_PER_CONNECTION = 2
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Scenario:
    name: str
    what: str
    lines: list[str]  # METHOD \t PATH \t BODY, "{uid}" made unique per request
    expected_statuses: tuple[int, ...] = (200,)
    consumes_lines: bool = False  # each line usable once (a voucher redeemed): the next run starts after the last
    events_per_request: int = 1
    connections: int | None = None
    seconds_factor: float = 1.0


@dataclass
class RunResult:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]
    connections: int

    @property
    def req_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class SuiteConfig:
    customers: int
    database_url: str
    seconds: float = 8.0
    floor_seconds: float = 4.0
    warmup_seconds: float = 1.0
    connections: int = 4
    threads: int = 1
    workers: int = 2
    gunicorn_timeout: int = 30
    bulk_size: int = 500
    output_dir: Path = RESULTS_DIR
    chart_dir: Path = CHART_DIR
    write_doc: bool = True
    note: str = ""
    extra: dict = field(default_factory=dict)


def _line(method: str, path: str, body: object | None = None) -> str:
    return f"{method}\t{path}\t{json.dumps(body, separators=(',', ':')) if body is not None else ''}"


def _fetch_samples(count: int, rng: random.Random) -> dict[str, list]:
    """Random customers of the data set and what identifies them (card, email, phone, ...), from the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM crm_customer")
        top = cursor.fetchone()[0] or 0
        ids = rng.sample(range(1, top + 1), k=min(count, top))
        cursor.execute(
            """
            SELECT c.public_id, c.email, c.phone_mobile, c.postal_code, c.last_name_search, c.alternate_customer_id,
                   a.account_number, (SELECT number FROM loyalty_card WHERE account_id = a.id ORDER BY kind DESC, id
                   LIMIT 1), c.first_name, c.last_name
            FROM crm_customer c JOIN loyalty_loyaltyaccount a ON a.customer_id = c.id
            WHERE c.id = ANY(%s)
            """,
            [ids],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT v.code, c.public_id FROM loyalty_voucher v JOIN crm_customer c ON c.id = v.customer_id "
            "WHERE v.status = 'issued' AND v.code LIKE 'BENCHH%%' ORDER BY v.id LIMIT %s",
            [count],
        )
        held = cursor.fetchall()
        cursor.execute(
            "SELECT code FROM loyalty_voucher WHERE status = 'issued' AND customer_id IS NULL AND code LIKE 'BENCHA%%' "
            "ORDER BY id"
        )
        anonymous = [row[0] for row in cursor.fetchall()]
    rng.shuffle(rows)
    return {"customers": rows, "held": held, "anonymous": anonymous}


def build_scenarios(samples: dict[str, list], rng: random.Random, bulk_size: int) -> list[Scenario]:
    customers = samples["customers"]
    public_ids = [row[0] for row in customers]

    def checkout_event(customer: str, uid: str) -> dict:
        lines = rng.randint(1, 5)
        items = [
            {"product_id": f"SKU-{rng.randrange(500)}", "quantity": 1, "subtotal": f"{rng.randrange(1, 60)}.99"}
            for _ in range(lines)
        ]
        total = sum(float(item["subtotal"]) for item in items)
        return {
            "customer": customer,
            "action": "checkout",
            "data": {"transaction_id": uid, "total": f"{total:.2f}", "items": items, "channel": "pos"},
        }

    prefixes = sorted({row[4][:3] for row in customers if len(row[4]) >= 3})
    bulk_lines = []
    for _ in range(4):
        events = [checkout_event(rng.choice(public_ids), f"B{{uid}}-{number}") for number in range(bulk_size)]
        bulk_lines.append(_line("POST", "/api/v1/events/bulk", {"events": events}))
    return [
        Scenario(
            "scan-and-go/found",
            "GET /customer-profile, a member's card",
            [_line("GET", f"/customer-profile?loyaltyCardNumber={row[7]}") for row in customers],
        ),
        Scenario(
            "scan-and-go/unknown",
            "GET /customer-profile, a card nobody holds (404)",
            [_line("GET", f"/customer-profile?loyaltyCardNumber=8{rng.randrange(10**12):012d}") for _ in customers],
            expected_statuses=(404,),
        ),
        Scenario(
            "spi/get-customer",
            "SPI GET_CUSTOMER",
            [_line("GET", f"/endpoint/sa/customers/{row[0]}") for row in customers],
        ),
        Scenario(
            "spi/search-last-name",
            "SPI search, last-name prefix of 3 letters",
            [_line("GET", f"/endpoint/sa/customers?lastName={rng.choice(prefixes)}") for _ in customers],
        ),
        Scenario(
            "spi/search-email",
            "SPI search by email",
            [_line("GET", f"/endpoint/sa/customers?email={row[1]}") for row in customers],
        ),
        Scenario(
            "spi/search-phone",
            "SPI search by phone",
            [_line("GET", f"/endpoint/sa/customers?phone=%2B{row[2].lstrip('+')}") for row in customers],
        ),
        Scenario(
            "spi/search-loyalty-id",
            "SPI search by loyalty id (card number)",
            [_line("GET", f"/endpoint/sa/customers?loyaltyId={row[7]}") for row in customers],
        ),
        Scenario(
            "spi/search-postal-code",
            "SPI search by postal code",
            [_line("GET", f"/endpoint/sa/customers?postalCode={row[3]}") for row in customers],
        ),
        Scenario(
            "events/checkout",
            "POST /api/v1/events checkout, 1-5 lines, a new transaction each",
            [_line("POST", "/api/v1/events", checkout_event(row[0], "C{uid}")) for row in customers],
        ),
        Scenario(
            "events/bulk",
            f"POST /api/v1/events/bulk, {bulk_size} new checkouts",
            bulk_lines,
            events_per_request=bulk_size,
            connections=2,
        ),
        Scenario(
            "customer-360",
            "GET /api/v1/customers/{id} with every embed",
            [_line("GET", f"/api/v1/customers/{row[0]}?embed={CUSTOMER_360_EMBEDS}") for row in customers],
        ),
        Scenario(
            "sessions/start",
            "POST /api/v1/sessions, a known shopper",
            [
                _line(
                    "POST",
                    "/api/v1/sessions?channel=web",
                    {
                        "merchant_id": row[5],
                        "customer": {"email": row[1], "first_name": row[8], "last_name": row[9]},
                        "language": "en",
                    },
                )
                for row in customers
            ],
        ),
        Scenario(
            "coupons/validate",
            "POST /api/v1/coupons/validate, a held voucher",
            [
                _line(
                    "POST",
                    "/api/v1/coupons/validate",
                    {"code": code, "customer": holder, "channel": "pos", "cart": {"total": "50.00"}},
                )
                for code, holder in samples["held"]
            ],
        ),
        Scenario(
            "coupons/redeem",
            "POST /api/v1/coupons/redeem, a new voucher each",
            [
                _line(
                    "POST",
                    "/api/v1/coupons/redeem",
                    {
                        "code": code,
                        "customer": rng.choice(public_ids),
                        "transaction_id": "R{uid}",
                        "channel": "pos",
                        "cart": {"total": "50.00"},
                    },
                )
                for code in samples["anonymous"]
            ],
            consumes_lines=True,
        ),
    ]


def floor_scenarios() -> list[Scenario]:
    return [
        Scenario(
            "floor/django",
            "a bare Django view: middleware and JSON, no database",
            [_line("GET", "/bench/floor/django")],
        ),
        Scenario(
            "floor/authenticated",
            "DRF with our API-key authentication and scope check",
            [_line("GET", "/bench/floor/authenticated")],
        ),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: `make bench` installs Debian's package (apt-get install wrk)")
    return found


def run_wrk(
    scenario: Scenario, lines: list[str], base: str, auth: str, *, seconds: float, connections: int, threads: int,
    timeout: int,
) -> RunResult:  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
        requests_file = handle.name
    env = dict(
        os.environ,
        BENCH_REQUESTS=requests_file,
        BENCH_AUTH=auth,
        BENCH_THREADS=str(threads),
        BENCH_RUN=f"r{time.time_ns():x}",
    )
    command = [
        _wrk_path(), "--threads", str(threads), "--connections", str(connections),
        "--duration", f"{max(1, round(seconds))}s", "--timeout", f"{timeout + 5}s", "--latency",
        "--script", str(LUA_SCRIPT), base,
    ]  # fmt: skip
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    finally:
        os.unlink(requests_file)
    marker = next((line for line in completed.stdout.splitlines() if line.startswith("BENCH-RESULT ")), None)
    if marker is None:
        raise RuntimeError(f"wrk gave no result for {scenario.name}: {completed.stdout}\n{completed.stderr}")
    data = json.loads(marker.removeprefix("BENCH-RESULT "))
    return RunResult(
        name=scenario.name,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        statuses=data["statuses"],
        errors=data["errors"],
        connections=connections,
    )


def run_bulk(scenario: Scenario, base: str, auth: str, *, connections: int, timeout: int) -> RunResult:
    """The bulk scenario: each connection sends BULK_REQUESTS_PER_CONNECTION bulks one after the other.

    A bulk takes seconds, so a fixed number of them (not a fixed time: wrk would stop mid-request and leave the
    workers busy for the next scenario) measures its rate; the client's cost is nothing beside a bulk's.
    """
    import threading

    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    timeouts = 0
    lock = threading.Lock()

    def connection_loop(offset: int) -> None:
        nonlocal timeouts
        with httpx.Client(base_url=base, headers={"Authorization": auth}, timeout=timeout + 5) as client:
            for number in range(BULK_REQUESTS_PER_CONNECTION):
                line = scenario.lines[(offset + number) % len(scenario.lines)]
                _method, path, body = line.split("\t", 2)
                uid = f"b{time.time_ns():x}c{offset}n{number}"
                started = time.perf_counter()
                try:
                    response = client.post(path, content=body.replace("{uid}", uid), headers=JSON_HEADERS)
                except httpx.TransportError:
                    # A client timeout, or gunicorn killing its worker at --timeout (the connection drops): either
                    # way the bulk did not finish in time.
                    with lock:
                        timeouts += 1
                    continue
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

    started = time.perf_counter()
    workers = [threading.Thread(target=connection_loop, args=(offset,)) for offset in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return RunResult(
        name=scenario.name,
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(0.50),
        p95_ms=percentile(0.95),
        p99_ms=percentile(0.99),
        max_ms=ordered[-1],
        statuses=statuses,
        errors={"connect": 0, "read": 0, "write": 0, "timeout": timeouts},
        connections=connections,
    )


def count_queries(scenarios: list[Scenario], auth: str) -> dict[str, float]:
    """Queries per request of each scenario, in-process (Django's test client), second request of two.

    Counted by an execute wrapper rather than CaptureQueriesContext, whose log keeps only the last 9,000 queries
    (a bulk of 500 checkouts runs more).
    """
    from django.db import connection
    from django.test import Client

    executed = 0

    def counter(execute, sql, params, many, context):  # noqa: ANN001, ANN202 (Django's wrapper signature)
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=auth)
    counts: dict[str, float] = {}
    for scenario in scenarios:
        measured = []
        for attempt, line in enumerate(scenario.lines[-2:] if scenario.consumes_lines else scenario.lines[:2]):
            method, path, body = line.split("\t", 2)
            uid = f"q{time.time_ns():x}{attempt}"
            path, body = path.replace("{uid}", uid), body.replace("{uid}", uid)
            executed = 0
            with connection.execute_wrapper(counter):
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(path, body, content_type="application/json")
            if response.status_code >= 500:
                raise RuntimeError(f"{scenario.name}: {response.status_code} {response.content[:300]!r}")
            measured.append(executed)
        counts[scenario.name] = measured[-1]
    return counts


def _start_gunicorn(config: SuiteConfig, port: int) -> subprocess.Popen:
    import httpx

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", DATABASE_URL=config.database_url)
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(config.workers), "--timeout", str(config.gunicorn_timeout), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our gunicorn, fixed arguments)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/floor/django", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def _wait_until_answering(base: str, *, seconds: float) -> None:
    """Until both workers answer the bare floor quickly again (or `seconds` have passed)."""
    import httpx

    deadline = time.monotonic() + seconds
    quick = 0
    while time.monotonic() < deadline and quick < 4:
        started = time.perf_counter()
        try:
            httpx.get(f"{base}/bench/floor/django", timeout=2)
            quick = quick + 1 if time.perf_counter() - started < 0.1 else 0
        except httpx.TransportError:
            quick = 0
            time.sleep(0.2)


def _ratio(value: float, all_floors: list[float]) -> dict[str, float]:
    floors = [floor for floor in all_floors if floor > 0] or [0.0]
    middle = statistics.median(floors)
    return {
        "value": round(value / middle, 4) if middle else 0.0,
        "min": round(value / max(floors), 4) if floors else 0.0,
        "max": round(value / min(floors), 4) if floors and min(floors) else 0.0,
    }


def _run_dict(result: RunResult, scenario: Scenario) -> dict:
    expected = sum(result.statuses.get(str(status), 0) for status in scenario.expected_statuses)
    return {
        "requests": result.requests,
        "seconds": round(result.seconds, 2),
        "connections": result.connections,
        "req_per_s": round(result.req_per_s, 2),
        # Events of the answered bulks only: a bulk that failed (a 500 at the worker timeout) wrote nothing.
        "events_per_s": round(expected * scenario.events_per_request / result.seconds, 1) if result.seconds else 0.0,
        "p50_ms": round(result.p50_ms, 2),
        "p95_ms": round(result.p95_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "max_ms": round(result.max_ms, 2),
        "statuses": dict(sorted(result.statuses.items())),
        "unexpected_statuses": result.requests - expected,
        "errors": result.errors,
    }


def run_suite(config: SuiteConfig, log=print) -> dict:  # noqa: PLR0915 (the run, step by step)
    from bench import scale_data

    scale_data.ensure_database(config.database_url)
    scale_data.setup_django(config.database_url)
    from crm.services.api_clients import api_client_create

    present = scale_data.dataset_size()
    load_report = None
    if present != config.customers:
        log(f"the database holds {present:,} customers, not {config.customers:,}: loading")
        load_report = scale_data.load(config.customers, log=log)
    else:
        log(f"the database holds {present:,} customers: running")
    _client, key = api_client_create(
        name=f"bench-suite-{time.time_ns()}",
        scopes=["clienteling", "scan_and_go", "loyalty:read", "loyalty:write"],
    )
    auth = f"Bearer {key}"
    rng = random.Random(15)
    samples = scale_data_samples = _fetch_samples(2000, rng)
    scenarios = build_scenarios(scale_data_samples, rng, config.bulk_size)
    floors = floor_scenarios()
    queries = count_queries(floors + scenarios, auth)
    log("queries per request: " + ", ".join(f"{name} {count}" for name, count in queries.items()))
    from django.db import connection

    connection.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_gunicorn(config, port)
    floor_runs: dict[str, list[RunResult]] = {name: [] for name in FLOORS}
    path_runs: dict[str, RunResult] = {}
    remaining = {scenario.name: list(scenario.lines) for scenario in scenarios}

    def measure(scenario: Scenario, seconds: float) -> RunResult:
        connections = scenario.connections or config.connections
        lines = remaining.get(scenario.name, scenario.lines)

        def once(duration: float) -> RunResult:
            result = run_wrk(
                scenario, lines, base, auth, seconds=duration, connections=connections, threads=config.threads,
                timeout=config.gunicorn_timeout,
            )  # fmt: skip
            if scenario.consumes_lines:
                del lines[: result.requests + connections]
                if not lines:
                    raise SystemExit(f"{scenario.name}: out of unused lines; load more vouchers")
            return result

        if scenario.events_per_request > 1:
            result = run_bulk(scenario, base, auth, connections=connections, timeout=config.gunicorn_timeout)
            # A bulk that ran into the timeout got its worker killed; the next run must not measure the restart.
            _wait_until_answering(base, seconds=config.gunicorn_timeout + 15)
            return result
        if config.warmup_seconds:
            once(config.warmup_seconds)
        return once(seconds * scenario.seconds_factor)

    def floors_once() -> None:
        for floor in floors:
            result = measure(floor, config.floor_seconds)
            floor_runs[floor.name].append(result)
            log(f"  {floor.name:24} {result.req_per_s:8.1f} req/s  p50 {result.p50_ms:7.2f} ms")

    started = time.perf_counter()
    try:
        for scenario in scenarios:
            floors_once()
            result = measure(scenario, config.seconds)
            path_runs[scenario.name] = result
            log(
                f"{scenario.name:26} {result.req_per_s:8.1f} req/s  p50 {result.p50_ms:7.2f}"
                f"  p99 {result.p99_ms:7.2f} ms  {result.statuses}"
            )
        floors_once()
    finally:
        server.terminate()
        try:
            server.wait(timeout=config.gunicorn_timeout + 5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    elapsed = time.perf_counter() - started

    floor_rates = {name: [run.req_per_s for run in runs] for name, runs in floor_runs.items()}
    rows = []
    for scenario in floors + scenarios:
        if scenario.name in FLOORS:
            runs = floor_runs[scenario.name]
            # Every floor run together: their requests, statuses and errors summed, their rates' median.
            statuses: dict[str, int] = {}
            errors: dict[str, int] = {}
            for run in runs:
                for status, count in run.statuses.items():
                    statuses[status] = statuses.get(status, 0) + count
                for kind, count in run.errors.items():
                    errors[kind] = errors.get(kind, 0) + count
            combined = RunResult(
                name=scenario.name,
                requests=sum(run.requests for run in runs),
                seconds=sum(run.seconds for run in runs),
                p50_ms=0.0,
                p95_ms=0.0,
                p99_ms=0.0,
                max_ms=0.0,
                statuses=statuses,
                errors=errors,
                connections=runs[0].connections,
            )
            row = _run_dict(combined, scenario)
            row["req_per_s"] = round(statistics.median(floor_rates[scenario.name]), 2)
            row["p50_ms"] = round(statistics.median(run.p50_ms for run in runs), 2)
            row["p95_ms"] = round(statistics.median(run.p95_ms for run in runs), 2)
            row["p99_ms"] = round(statistics.median(run.p99_ms for run in runs), 2)
            row["max_ms"] = round(max(run.max_ms for run in runs), 2)
            row["runs"] = [round(run.req_per_s, 2) for run in runs]
        else:
            row = _run_dict(path_runs[scenario.name], scenario)
        row["scenario"] = scenario.name
        row["what"] = scenario.what
        row["queries_per_request"] = queries[scenario.name]
        row["events_per_request"] = scenario.events_per_request
        row["ratio_to_django_floor"] = _ratio(row["req_per_s"], floor_rates["floor/django"])
        row["ratio_to_authenticated_floor"] = _ratio(row["req_per_s"], floor_rates["floor/authenticated"])
        row["targets"] = _targets(scenario.name, row)
        rows.append(row)

    report = {
        "suite": "issue-15",
        "customers": config.customers,
        "database": config.database_url.rsplit("@", 1)[-1],
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        # gunicorn serves the working tree: uncommitted changes (another change in progress) are part of the run.
        "git_uncommitted_changes": _git_uncommitted_changes(),
        "machine": {"cpu_count": os.cpu_count(), "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "settings": {
            "seconds_per_path": config.seconds,
            "seconds_per_floor_run": config.floor_seconds,
            "warmup_seconds": config.warmup_seconds,
            "wrk_threads": config.threads,
            "wrk_connections": config.connections,
            "gunicorn_workers": config.workers,
            "gunicorn_timeout_s": config.gunicorn_timeout,
            "bulk_size": config.bulk_size,
        },
        "note": config.note,
        "load": load_report.__dict__ if load_report else _previous_load(config),
        "measuring_seconds": round(elapsed, 1),
        "scenarios": rows,
    }
    del samples
    return report


def _targets(name: str, row: dict) -> list[dict]:
    targets = []
    if name in TARGET_SHARES:
        share = TARGET_SHARES[name]
        value = row["ratio_to_django_floor"]["value"]
        targets.append({"target": f">= {share:.0%} of the bare-Django floor", "value": value, "holds": value >= share})
    if name == "events/bulk":
        value = row["events_per_s"]
        targets.append(
            {"target": f">= {BULK_EVENTS_PER_SECOND_TARGET} events/s", "value": value,
             "holds": value >= BULK_EVENTS_PER_SECOND_TARGET}
        )  # fmt: skip
    if name not in FLOORS:
        spread = row["p99_ms"] / row["p50_ms"] if row["p50_ms"] else 0.0
        targets.append(
            {
                "target": f"p99 <= {P99_OVER_P50_MAX:g}x p50",
                "value": round(spread, 2),
                "holds": spread <= P99_OVER_P50_MAX,
            }
        )
        timeouts = row["errors"].get("timeout", 0)
        targets.append({"target": "no request timed out", "value": timeouts, "holds": timeouts == 0})
    return targets


def _git_commit() -> str:
    completed = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip()


def _git_uncommitted_changes() -> int:
    completed = subprocess.run(  # noqa: S603
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return len(completed.stdout.splitlines())


def _previous_load(config: SuiteConfig) -> dict | None:
    path = config.output_dir / f"load-{config.customers}.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_outputs(report: dict, config: SuiteConfig) -> dict[str, Path]:
    from bench import report as report_module

    config.output_dir.mkdir(parents=True, exist_ok=True)
    config.chart_dir.mkdir(parents=True, exist_ok=True)
    json_path = config.output_dir / f"suite-{config.customers}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    chart_path = config.chart_dir / f"suite-{config.customers}.png"
    report_module.chart(report, chart_path)
    paths = {"json": json_path, "chart": chart_path}
    if config.write_doc:
        paths["doc"] = report_module.regenerate_doc(config.output_dir)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=8.0, help="per path (the bulk runs twice as long)")
    parser.add_argument("--floor-seconds", type=float, default=4.0, help="per floor run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gunicorn-timeout", type=int, default=30)
    parser.add_argument("--bulk-size", type=int, default=500)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="directory of the JSON results")
    parser.add_argument("--chart-dir", type=Path, default=CHART_DIR)
    parser.add_argument("--no-doc", action="store_true", help="do not regenerate docs/benchmarks.md")
    parser.add_argument("--note", default="", help="run conditions, printed in the doc")
    args = parser.parse_args()
    from bench.scale_data import default_database_url

    config = SuiteConfig(
        customers=args.customers,
        database_url=args.database_url or default_database_url(args.customers),
        seconds=args.seconds,
        floor_seconds=args.floor_seconds,
        warmup_seconds=args.warmup,
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
        gunicorn_timeout=args.gunicorn_timeout,
        bulk_size=args.bulk_size,
        output_dir=args.output,
        chart_dir=args.chart_dir,
        write_doc=not args.no_doc,
        note=args.note,
    )
    report = run_suite(config)
    from bench.report import text_table

    print(text_table(report))
    for kind, path in write_outputs(report, config).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
