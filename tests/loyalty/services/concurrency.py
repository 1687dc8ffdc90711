"""Service calls raced from threads, for the PostgreSQL concurrency tests."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from core.exceptions import ApplicationError


def in_threads(count, work):
    """Run work(i) for i in range(count) in `count` threads that start together; each returns "ok" or the
    (code, status) of the ApplicationError it raised."""
    start = threading.Barrier(count)

    def run(index):
        try:
            start.wait(timeout=30)
            work(index)
            return "ok"
        except ApplicationError as error:
            return (str(error.code), error.status)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
