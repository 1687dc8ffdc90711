"""Housekeeping of the shared kernel, run by Celery beat on the schedule of `manage.py setup_periodic_tasks`."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=240, time_limit=300)
def delete_expired_idempotency_records_task() -> None:
    """Delete Idempotency-Key records past their 24 hours; running it twice deletes nothing more."""
    from core.idempotency import idempotency_records_delete_expired

    deleted = idempotency_records_delete_expired()
    logger.info("deleted %d expired idempotency records", deleted)
