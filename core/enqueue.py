"""Queueing Celery tasks after a commit without making the request wait for the broker.

Whatever is queued here is also in the database (an outbox row, a queued batch) and a beat sweeper queues it again
when its message never arrived, so a publish that fails costs a delay, not the work. A publish is therefore tried
once: kombu's default policy retries three times with pauses (about 0.6 s per task while the broker refuses
connections), and Celery's `retry=False` falls back to kombu's connection defaults instead, which retry for up to
`broker_connection_timeout` (about 6 s). After a failure this process publishes nothing for a short pause
(ENQUEUE_PAUSE_AFTER_BROKER_ERROR_SECONDS), so that a broker which hangs rather than refuses costs one connect
timeout per pause, not one per task. The timeouts of a single attempt are the broker settings in
config/settings/base.py.
"""

import logging
import time
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# No retry (kombu's Connection.ensure). Redis's client still replaces a stale pooled connection by itself; with
# RabbitMQ the first publish after a broker restart fails, and its work waits for a sweeper.
PUBLISH_RETRY_POLICY = {"max_retries": 0}
DEFAULT_PAUSE_AFTER_BROKER_ERROR_SECONDS = 10.0


class BrokerPause:
    """Per process: after a failed publish, no publishing until the pause is over."""

    def __init__(self) -> None:
        self._until = 0.0

    def is_active(self) -> bool:
        return time.monotonic() < self._until

    def start(self) -> float:
        seconds = float(
            getattr(settings, "ENQUEUE_PAUSE_AFTER_BROKER_ERROR_SECONDS", DEFAULT_PAUSE_AFTER_BROKER_ERROR_SECONDS)
        )
        self._until = time.monotonic() + seconds
        return seconds

    def end(self) -> None:
        self._until = 0.0


broker_pause = BrokerPause()


def task_publish(task: Task, *args: Any, countdown: float = 0) -> bool:
    """Publish one task message, trying once; returns whether it was published. A broker that is down or hangs is
    logged and pauses publishing (see the module docstring); any other error propagates."""
    if broker_pause.is_active():
        logger.debug("%s not published: publishing is paused after a broker error.", task.name)
        return False
    try:
        task.apply_async(args=args, countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except OperationalError as error:
        seconds = broker_pause.start()
        logger.warning(
            "%s not published, the broker is unreachable (%s); publishing paused for %s s, the sweepers queue the "
            "work again.",
            task.name,
            error,
            seconds,
        )
        return False
    return True


def enqueue_after_commit(task: Task, *args: Any, countdown: float = 0) -> None:
    """Queue `task` once the current transaction commits (task_publish: one try, never a wait on the broker). A
    change that has committed never fails because of the queueing: an unexpected error is logged too.

    A named function rather than functools.partial: Django 5.2's robust on_commit logs a failing callback by
    its __qualname__, which a partial lacks, so the logging itself raised (Django ticket #36487)."""

    def send_task_after_commit() -> None:
        task_publish(task, *args, countdown=countdown)

    transaction.on_commit(send_task_after_commit, robust=True)
