"""What a broker outage does to a write: a bulk of checkouts over HTTP with the broker up, then unreachable.

    .venv/bin/python -m bench.broker_outage                          # 60 checkouts, filesystem broker vs down
    .venv/bin/python -m bench.broker_outage --up redis://127.0.0.1:6379/15 --down redis://127.0.0.1:1/0

Each scenario runs in a process of its own (the broker URL is read at start-up) on a fresh SQLite file under
var/bench/, with Celery out of eager mode so that every task is really published after its commit. It enrols one
member (an opt_in, timed: it makes the first connection to the broker), warms up with a bulk of 5 checkouts, posts
--runs bulks of --checkouts checkouts each to /api/v1/events/bulk through Django's test client (the whole view,
middleware and services; no network hop).
It reports the seconds (median, min, max), the purchases committed, the webhook events written (one fan-out task
each), the tasks that reached the broker and those left for the sweeper. The "down" broker is a closed port on
127.0.0.1: connections are refused at once, as when the broker's host is up and the broker is not. The "hanging"
one accepts no connection: each attempt costs the broker timeouts of config/settings/base.py. Results are printed
and written to var/bench/broker_outage.json.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def _scenario(name: str, broker_url: str, checkouts: int, runs_wanted: int) -> dict[str, object]:
    """Run in a child process: set up Django against the broker, measure, return the numbers."""
    database = BENCH_DIR / f"broker_outage-{name}.sqlite3"
    for leftover in BENCH_DIR.glob(f"{database.name}*"):
        leftover.unlink()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{database}",
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from celery.signals import after_task_publish
    from django.core.management import call_command
    from django.test import Client

    from crm.services.api_clients import api_client_create
    from loyalty.models import Purchase
    from webhooks.models import WebhookEvent

    call_command("migrate", verbosity=0, interactive=False)
    published = []
    after_task_publish.connect(lambda sender, **kwargs: published.append(sender), weak=False)
    _client, key = api_client_create(name="bench", scopes=["loyalty:write"])
    http = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {key}")

    def post_bulk(events: list[dict[str, object]]) -> int:
        return http.post("/api/v1/events/bulk", {"events": events}, content_type="application/json").status_code

    started = time.perf_counter()
    opt_in = http.post(
        "/api/v1/events",
        {"action": "opt_in", "data": {"email": "bench@example.com", "first_name": "Bench"}},
        content_type="application/json",
    )
    opt_in_seconds = time.perf_counter() - started
    customer = opt_in.json()["id"]

    def checkout_events(prefix: str, count: int) -> list[dict[str, object]]:
        return [
            {"customer": customer, "action": "checkout", "data": {"transaction_id": f"{prefix}-{i}", "total": "25"}}
            for i in range(count)
        ]

    started = time.perf_counter()
    warm_up_status = post_bulk(checkout_events("warm", 5))
    warm_up_seconds = time.perf_counter() - started
    runs = []
    for run in range(runs_wanted):
        purchases_before, events_before = Purchase.objects.count(), WebhookEvent.objects.count()
        published.clear()
        started = time.perf_counter()
        status = post_bulk(checkout_events(f"bulk-{run}", checkouts))
        seconds = time.perf_counter() - started
        events = WebhookEvent.objects.count() - events_before
        runs.append(
            {
                "status": status,
                "seconds": seconds,
                "committed": Purchase.objects.count() - purchases_before,
                "events": events,
                "published": len(published),
                "left_for_the_sweeper": events - len(published),
            }
        )
    timings = [run["seconds"] for run in runs]
    return {
        "scenario": name,
        "broker": broker_url,
        "opt_in_s": round(opt_in_seconds, 2),
        "warm_up_status": warm_up_status,
        "warm_up_s": round(warm_up_seconds, 2),
        "median_s": round(statistics.median(timings), 2),
        "min_s": round(min(timings), 2),
        "max_s": round(max(timings), 2),
        "runs_s": [round(seconds, 2) for seconds in timings],
        # The counts of the last run (every run has the same).
        **{key: value for key, value in runs[-1].items() if key != "seconds"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--up", default="filesystem://", help="a reachable broker (default: kombu's filesystem one)")
    parser.add_argument("--down", default="redis://127.0.0.1:1/0", help="an unreachable broker")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(_scenario(args.child[0], args.child[1], args.checkouts, args.runs)))
        return
    # A broker that hangs: the kernel completes the first connection (then nothing answers it) and drops the
    # handshakes of the next ones, as happens behind a dead link.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        hanging = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        rows = []
        for name, url in (("up", args.up), ("down", args.down), ("hanging", hanging)):
            child = [sys.executable, "-m", "bench.broker_outage", "--checkouts", str(args.checkouts)]
            child += ["--runs", str(args.runs), "--child", name, url]
            output = subprocess.run(child, cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603
            rows.append(json.loads(output.strip().splitlines()[-1]))
    header = (
        "scenario",
        "broker",
        "opt_in_s",
        "warm_up_s",
        "status",
        "median_s",
        "min_s",
        "max_s",
        "runs_s",
        "committed",
        "events",
        "published",
    )
    header += ("left_for_the_sweeper",)
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[column]) for column in header))
    report = {"checkouts": args.checkouts, "runs": args.runs, "cpu_count": os.cpu_count(), "results": rows}
    (BENCH_DIR / "broker_outage.json").write_text(json.dumps(report, indent=2))
    print("results in var/bench/broker_outage.json")


if __name__ == "__main__":
    main()
