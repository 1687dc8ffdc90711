"""Benchmark of the customer import (loyalty/services/customer_import.py): N generated rows, every one a new
customer with a profile address, two consents, a loyalty account, a physical card and an opening balance, so each
row runs every service the import calls; one row in 1,000 is bad (a birthday that is not a date) and is rejected.

    .venv/bin/python -m bench.customer_import --rows 100000          # SQLite file under var/bench/ (WAL)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_crm_bench .venv/bin/python -m bench.customer_import

It builds its own database (a fresh SQLite file, or the given PostgreSQL database, migrated; its customers are not
emptied, so use a database of its own), writes the CSV under var/bench/, then times the two things a migration
does: the upload (stored and counted, streaming) and the import run (chunks of CHUNK_ROWS rows, each row in its own
savepoint). It reports seconds, rows per second, the peak memory the run allocated in Python (tracemalloc; tracing
slows Python down, so the timing comes from a run without it when --trace-rows is smaller than --rows) and the
process's peak resident size (resource.getrusage), and the CPU seconds the process used (on a shared machine the
wall time includes waiting for a core; rows per CPU second is the import's own cost). Results are printed and
written to var/bench/customer_import.json.
"""

import argparse
import csv
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
HEADER = (
    "external_id", "first_name", "last_name", "email", "phone_mobile", "birthday", "address_line1", "address_city",
    "address_postal_code", "address_country_code", "news_letter_sign_up", "e_receipt", "card_number",
    "points_balance",
)  # fmt: skip


def _setup() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("MEDIA_ROOT", str(BENCH_DIR / "media"))
    if not os.environ.get("DATABASE_URL"):
        for leftover in BENCH_DIR.glob("import.sqlite3*"):
            leftover.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DIR / 'import.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _write_csv(path: Path, rows: int, run: str) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            birthday = "not-a-date" if n % 1000 == 999 else f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}"
            writer.writerow((
                f"{run}-{n}", f"First{n}", f"Last{n}", f"{run}.{n}@example.com", "", birthday, f"{n} Main Street",
                "Springfield", f"{10000 + n % 89999}", "US", "yes", "no", f"{run}-CARD-{n}", 100 + n % 900,
            ))  # fmt: skip


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(rows: int, run: str, *, trace: bool) -> dict:
    from loyalty.models import ImportJob
    from loyalty.services.customer_import import import_job_create, import_job_run

    path = BENCH_DIR / f"import-{run}.csv"
    _write_csv(path, rows, run)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    with path.open("rb") as source:
        job = import_job_create(upload=source, file_name=path.name, user=None, is_dry_run=False, enqueue=False)
    stored = time.perf_counter()
    cpu_stored = _cpu_seconds()
    import_job_run(job_pk=job.pk)
    finished = time.perf_counter()
    cpu_import = _cpu_seconds() - cpu_stored
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    job = ImportJob.objects.get(pk=job.pk)
    path.unlink()
    return {
        "rows": rows,
        "traced": trace,
        "upload_seconds": round(stored - started, 2),
        "import_seconds": round(finished - stored, 2),
        "rows_per_second": round(rows / (finished - stored), 1),
        # On a loaded machine the wall time includes waiting for a core; CPU time is this process's own work.
        "import_cpu_seconds": round(cpu_import, 2),
        "rows_per_cpu_second": round(rows / cpu_import, 1),
        "upload_cpu_seconds": round(cpu_stored - cpu_started, 2),
        "created": job.created_count,
        "rejected": job.rejected_count,
        "status": job.status,
        "python_peak_mib": None if peak is None else round(peak / 2**20, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trace-rows", type=int, default=5_000, help="Rows of the tracemalloc run (0: none).")
    arguments = parser.parse_args()
    _setup()
    from django.db import connection

    results = {"database": connection.vendor, "runs": []}
    stamp = str(int(time.time()))
    if arguments.trace_rows:
        results["runs"].append(_run(arguments.trace_rows, f"t{stamp}", trace=True))
        print(json.dumps(results["runs"][-1]))
    results["runs"].append(_run(arguments.rows, f"r{stamp}", trace=False))
    print(json.dumps(results["runs"][-1]))
    (BENCH_DIR / "customer_import.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
