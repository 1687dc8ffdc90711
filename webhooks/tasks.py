"""Thin Celery tasks: they take primary keys and call the services, which make running twice harmless.

Receiver failures are not task failures: the delivery service records them and schedules the next attempt in the
database. Celery retries only a database that is briefly unavailable; anything else is left to the sweeper.
"""

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

DATABASE_HICCUPS = (OperationalError, InterfaceError)


@shared_task(
    autoretry_for=DATABASE_HICCUPS,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=30,
    time_limit=60,
)
def webhook_event_fan_out_task(event_pk: int) -> None:
    from webhooks.services.deliveries import webhook_event_fan_out

    webhook_event_fan_out(event_pk=event_pk)


# The hard limit stays well under WEBHOOK_STUCK_AFTER_SECONDS (300), so the sweeper never reclaims a delivery
# whose worker is still sending it.
@shared_task(
    bind=True,
    autoretry_for=DATABASE_HICCUPS,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=45,
    time_limit=60,
)
def webhook_delivery_send_task(self: Task, delivery_pk: int) -> None:
    from webhooks.services.deliveries import webhook_delivery_attempt

    webhook_delivery_attempt(delivery_pk=delivery_pk, task_id=self.request.id or "")


@shared_task(soft_time_limit=50, time_limit=60)
def sweep_due_deliveries_task() -> None:
    from webhooks.services.deliveries import webhook_deliveries_sweep

    webhook_deliveries_sweep()
