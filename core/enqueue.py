from typing import Any

from celery import Task
from django.db import transaction


def enqueue_after_commit(task: Task, *args: Any, countdown: float = 0) -> None:
    """Queue `task` once the current transaction commits. A broker that is down must not fail a change that has
    already committed: the error is logged and the beat sweeper sends the work later.

    A named function rather than functools.partial: Django 5.2's robust on_commit logs a failing callback by
    its __qualname__, which a partial lacks, so the logging itself raised (Django ticket #36487)."""

    def send_task_after_commit() -> None:
        task.apply_async(args=args, countdown=countdown)

    transaction.on_commit(send_task_after_commit, robust=True)
