"""A real Celery worker in a process of its own, which a test can kill -9: it consumes one queue of the test's own
on Redis and works on the test database, with the settings `make run` uses otherwise."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.db import connection

# The queue is the worker's default one too, so that the tasks it queues itself (a fan-out queues the sends) stay
# on the test's queue.
WORKER_SCRIPT = """
import os
import django

django.setup()
from config.celery_app import app

queue = os.environ["FAULTS_QUEUE"]
app.conf.task_default_queue = queue
app.worker_main(["worker", "--queues", queue, "--pool", "solo", "--without-heartbeat", "--without-gossip",
                 "--without-mingle", "--loglevel", "WARNING"])
"""
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def worker_database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"


def worker_start(*, broker_url: str, queue: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "FAULTS_QUEUE": queue,
    }
    return subprocess.Popen(  # noqa: S603 (this interpreter and a fixed script)
        [sys.executable, "-c", WORKER_SCRIPT],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def worker_stop(worker: subprocess.Popen[bytes], timeout: float = 5) -> None:
    """Ask the worker to stop (a warm shutdown); kill it if it has not stopped within `timeout` seconds."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout)
