"""The loyalty engine's periodic jobs, run by Celery beat on the schedules of `manage.py setup_periodic_tasks`.

Each task handles one batch of due items (loyalty/services/jobs.py, one transaction per item) and, when the batch
was full, enqueues itself for the items after the last one it saw; the next beat tick starts again from the
first due item. Every task is safe to run twice and takes only a primary key cursor, never a model instance.
"""

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# A batch of 1,000 items takes seconds; the limits only stop a run stuck on a lock or a runaway query.
SOFT_TIME_LIMIT = 240
TIME_LIMIT = 300
# A continuation not started within this time is dropped: the next beat tick covers its items anyway.
CONTINUATION_EXPIRES = 600


def _run_batch(task: Task, job: Callable[..., Any], after_pk: int) -> None:
    try:
        batch = job(now=timezone.now(), after_pk=after_pk, limit=BATCH_SIZE)
    except SoftTimeLimitExceeded:
        # The item in progress rolled back; the ones before it are committed and the next run goes on.
        logger.warning("%s stopped at its soft time limit after pk %s", task.name, after_pk)
        return
    logger.info("%s: %d due, %d changed, %d failed", task.name, batch.selected, batch.changed, batch.failed)
    if batch.is_full:
        task.apply_async(kwargs={"after_pk": batch.last_pk}, expires=CONTINUATION_EXPIRES)


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def confirm_due_purchases_task(after_pk: int = 0) -> None:
    """Confirm the pending points of purchases whose return window has closed (confirm_at <= now)."""
    from loyalty.services.jobs import purchases_confirm_due

    _run_batch(confirm_due_purchases_task, purchases_confirm_due, after_pk)


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def expire_points_task(after_pk: int = 0) -> None:
    """Expire the remainder of every lot past its expiry date, one EXPIRE entry per lot."""
    from loyalty.services.jobs import accounts_expire_points_due

    _run_batch(expire_points_task, accounts_expire_points_due, after_pk)


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def evaluate_tier_expiry_task(after_pk: int = 0) -> None:
    """Renew or downgrade the tiers that have reached their expiry date."""
    from loyalty.services.jobs import accounts_evaluate_tier_expiry_due

    _run_batch(evaluate_tier_expiry_task, accounts_evaluate_tier_expiry_due, after_pk)


# 100,000 codes take well under a minute; a bigger batch, or a slow database, stops at the soft limit with its
# chunks committed and goes on in a fresh run.
BATCH_SOFT_TIME_LIMIT = 600
BATCH_TIME_LIMIT = 660


@shared_task(
    soft_time_limit=BATCH_SOFT_TIME_LIMIT,
    time_limit=BATCH_TIME_LIMIT,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def generate_voucher_batch_task(batch_pk: int) -> None:
    """Generate the anonymous vouchers of a VoucherBatch, from its committed progress on. Safe to run twice."""
    from loyalty.models import VoucherBatch
    from loyalty.services.voucher_batches import voucher_batch_generate

    try:
        batch = voucher_batch_generate(batch_pk=batch_pk)
    except VoucherBatch.DoesNotExist:
        logger.warning("generate_voucher_batch_task: batch %s does not exist", batch_pk)
        return
    except SoftTimeLimitExceeded:
        # The chunk in progress rolled back; the ones before it are committed and counted.
        logger.warning("generate_voucher_batch_task: batch %s stopped at its soft time limit; continuing", batch_pk)
        generate_voucher_batch_task.apply_async(args=[batch_pk])
        return
    logger.info("generate_voucher_batch_task: batch %s %s, %d issued", batch_pk, batch.status, batch.issued_count)


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def expire_vouchers_task() -> None:
    """Expire the issued and claimed vouchers whose expiry has come, a batch at a time until none is left."""
    from loyalty.services.vouchers import EXPIRY_BATCH, vouchers_expire_due

    expired = 0
    try:
        while True:
            count = vouchers_expire_due(now=timezone.now(), batch_size=EXPIRY_BATCH)
            expired += count
            if count < EXPIRY_BATCH:
                break
    except SoftTimeLimitExceeded:
        # Each batch is its own transaction: the committed ones stay, the next hourly run does the rest.
        logger.warning("expire_vouchers_task stopped at its soft time limit after %d vouchers", expired)
        return
    logger.info("expire_vouchers_task: %d vouchers expired", expired)


@shared_task(soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def sweep_voucher_batches_task() -> None:
    """Start the generation job again for voucher batches left queued (the broker was down) or stalled (their worker
    died): generation carries on from the committed progress, so this is safe whatever state the batch is in."""
    from loyalty.services.voucher_batches import voucher_batches_sweep

    restarted = voucher_batches_sweep(now=timezone.now())
    logger.info("sweep_voucher_batches_task: %d batches started again", len(restarted))


# A run imports for at most IMPORT_RUN_SECONDS, then queues its continuation: the rows done are committed, chunk by
# chunk, with the job's progress, so the next run goes on from the next row (and a worker restart loses nothing).
IMPORT_RUN_SECONDS = 240
IMPORT_SOFT_TIME_LIMIT = 300
IMPORT_TIME_LIMIT = 360


@shared_task(soft_time_limit=IMPORT_SOFT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT)
def customer_import_run_task(job_pk: int) -> None:
    """Run a customer import (or its dry run) from its committed progress on. Safe to run twice: a second run of
    the same job finds the job moved on and stops."""
    import time

    from loyalty.services.customer_import import import_job_run

    try:
        finished = import_job_run(job_pk=job_pk, deadline=time.monotonic() + IMPORT_RUN_SECONDS)
    except SoftTimeLimitExceeded:
        # The chunk in progress rolled back; the ones before it are committed with the job's progress.
        logger.warning("customer_import_run_task: job %s stopped at its soft time limit; continuing", job_pk)
        finished = False
    if not finished:
        customer_import_run_task.apply_async(args=[job_pk])
