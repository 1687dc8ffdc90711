"""Benchmark of bulk voucher generation (the Celery job behind "Generate vouchers") against Django's own floor.

    make bench-vouchers                               # SQLite file under var/bench/, 100,000 codes, 3 runs
    make bench-vouchers DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_crm_bench
    .venv/bin/python -m bench.voucher_batches --codes 100000 --runs 3

It builds its own database (a fresh SQLite file in WAL mode as `make run` uses, or the given PostgreSQL database,
whose voucher tables it empties), then times, each over the same number of codes, chunk by chunk in a transaction
per chunk as the job commits them:

    floor/bulk_create     Django's bulk_create of the same vouchers, codes drawn with the same generator: what the
                          ORM's own bulk path costs (the job used it until it was replaced)
    job                   voucher_batch_generate: locks, limits, progress committed per chunk, collision retry

and reports seconds (median of the runs), codes per second, and the job's peak Python memory (tracemalloc, on a
run of its own since tracing slows Python down). Results are printed and written to var/bench/voucher_batches.json.
"""

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def _setup() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if not os.environ.get("DATABASE_URL"):
        for leftover in BENCH_DIR.glob("vouchers.sqlite3*"):
            leftover.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DIR / 'vouchers.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _empty_vouchers() -> None:
    from loyalty.models import CouponDefinition, Voucher, VoucherBatch

    Voucher.objects.all().delete()
    VoucherBatch.objects.all().delete()
    CouponDefinition.objects.filter(code__startswith="bench-").delete()


def _definition(run: str):  # -> CouponDefinition (imported once Django is set up)
    from loyalty.models import CouponDefinition, Program
    from loyalty.services.coupon_definitions import coupon_definition_create

    return coupon_definition_create(
        program=Program.objects.get(is_default=True),
        code=f"bench-{run}",
        name="Spring 5 off",
        kind=CouponDefinition.Kind.AMOUNT,
        value=Decimal("5"),
        code_pattern="SPRING-{code}",
    )


def _bulk_create_floor(codes: int, chunk: int) -> float:
    from django.db import transaction
    from django.utils import timezone

    from loyalty.coupon_codes import voucher_codes_generate
    from loyalty.models import Voucher, VoucherBatch

    definition = _definition(f"floor-{time.time_ns()}")
    batch = VoucherBatch.objects.create(definition=definition, requested_count=codes)
    started = time.perf_counter()
    for offset in range(0, codes, chunk):
        size = min(chunk, codes - offset)
        with transaction.atomic():
            now = timezone.now()
            texts, normalised = voucher_codes_generate(size, definition.code_pattern)
            Voucher.objects.bulk_create(
                [
                    Voucher(
                        definition=definition,
                        code=code,
                        normalised_code=normalised_code,
                        status=Voucher.Status.ISSUED,
                        origin=Voucher.Origin.BATCH,
                        batch=batch,
                        issued_at=now,
                    )
                    for code, normalised_code in zip(texts, normalised, strict=True)
                ]
            )
    return time.perf_counter() - started


def _job(codes: int) -> float:
    from loyalty.models import VoucherBatch
    from loyalty.services.voucher_batches import voucher_batch_generate

    definition = _definition(f"job-{time.time_ns()}")
    batch = VoucherBatch.objects.create(definition=definition, requested_count=codes)
    started = time.perf_counter()
    done = voucher_batch_generate(batch_pk=batch.pk)
    elapsed = time.perf_counter() - started
    if (done.status, done.issued_count) != (VoucherBatch.Status.DONE, codes):
        raise SystemExit(f"the job ended {done.status} with {done.issued_count} of {codes} codes")
    return elapsed


def _job_peak_memory(codes: int) -> int:
    tracemalloc.start()
    try:
        _job(codes)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _setup()
    from django.db import connection

    from loyalty.services.voucher_batches import CHUNK_SIZE

    timings: dict[str, list[float]] = {"floor/bulk_create": [], "job": []}
    for _run in range(args.runs):
        for name, measure in (("floor/bulk_create", lambda: _bulk_create_floor(args.codes, CHUNK_SIZE)),
                              ("job", lambda: _job(args.codes))):  # fmt: skip
            _empty_vouchers()
            timings[name].append(measure())
    _empty_vouchers()
    peak = _job_peak_memory(args.codes)
    _empty_vouchers()

    floor = statistics.median(timings["floor/bulk_create"])
    rows = []
    for name, seconds in timings.items():
        median = statistics.median(seconds)
        rows.append(
            {
                "scenario": name,
                "codes": args.codes,
                "median_s": round(median, 2),
                "min_s": round(min(seconds), 2),
                "max_s": round(max(seconds), 2),
                "codes_per_s": round(args.codes / median),
                "vs_floor": f"{floor / median:.1f}x",
            }
        )
    header = ("scenario", "codes", "median_s", "min_s", "max_s", "codes_per_s", "vs_floor")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[column]) for column in header))
    print(f"job peak Python memory (tracemalloc): {peak / 1e6:.2f} MB for {args.codes:,} codes")
    report = {
        "database": connection.vendor,
        "runs": args.runs,
        "chunk_size": CHUNK_SIZE,
        "cpu_count": os.cpu_count(),
        "results": rows,
        "job_peak_memory_bytes": peak,
    }
    (BENCH_DIR / "voucher_batches.json").write_text(json.dumps(report, indent=2))
    print("results in var/bench/voucher_batches.json")


if __name__ == "__main__":
    main()
