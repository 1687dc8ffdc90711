"""`manage.py setup_periodic_tasks`: writes the Celery beat schedule into django-celery-beat's tables, where the
DatabaseScheduler reads it. The one place schedules are defined.

Idempotent: entries are updated by name, so `make run` and the release step run it on every start and deploy,
and a schedule changed here replaces the one in the database. Entries named with one of the managed prefixes
(`loyalty: `, `webhooks: `) that are no longer listed here are deleted; entries added by hand under other names are
left alone.
"""

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from core.tasks import delete_expired_idempotency_records_task
from loyalty.tasks import (
    confirm_due_purchases_task,
    evaluate_tier_expiry_task,
    expire_points_task,
    expire_vouchers_task,
    sweep_voucher_batches_task,
)
from webhooks.tasks import sweep_due_deliveries_task

NAME_PREFIX = "loyalty: "
WEBHOOKS_PREFIX = "webhooks: "
CORE_PREFIX = "core: "
MANAGED_PREFIXES = (NAME_PREFIX, WEBHOOKS_PREFIX, CORE_PREFIX)
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str
    hour: str
    # A run still queued after this long is dropped (workers down or backed up): the next run covers its items,
    # so runs never pile up behind each other.
    expire_seconds: int
    description: str


SCHEDULES = (
    Schedule(
        name=f"{NAME_PREFIX}confirm due purchases",
        task=confirm_due_purchases_task.name,
        # Every 15 minutes: https://crontab.guru/#*/15_*_*_*_*
        minute="*/15",
        hour="*",
        expire_seconds=14 * 60,
        description="Pending points of purchases whose return window has closed become spendable.",
    ),
    Schedule(
        name=f"{NAME_PREFIX}expire points",
        task=expire_points_task.name,
        # Hourly, at minute 5 so as not to start together with the quarter-hourly job: https://crontab.guru/#5_*_*_*_*
        minute="5",
        hour="*",
        expire_seconds=55 * 60,
        description="What is left of lots past their expiry date expires, one entry per lot.",
    ),
    Schedule(
        name=f"{NAME_PREFIX}evaluate tier expiry",
        task=evaluate_tier_expiry_task.name,
        # Daily at 02:30 UTC: https://crontab.guru/#30_2_*_*_*
        minute="30",
        hour="2",
        expire_seconds=6 * 3600,
        description="Tiers at their expiry date are renewed, or dropped when the renewal threshold is missed.",
    ),
    Schedule(
        name=f"{NAME_PREFIX}expire vouchers",
        task=expire_vouchers_task.name,
        # Hourly, at minute 10, clear of the points expiry at minute 5: https://crontab.guru/#10_*_*_*_*
        minute="10",
        hour="*",
        expire_seconds=55 * 60,
        description="Issued and claimed vouchers past their expiry date become expired.",
    ),
    Schedule(
        name=f"{NAME_PREFIX}sweep voucher batches",
        task=sweep_voucher_batches_task.name,
        # Every 5 minutes, the grace a queued batch gets before it is sent again: https://crontab.guru/#*/5_*_*_*_*
        minute="*/5",
        hour="*",
        expire_seconds=4 * 60,
        description="Voucher batches left queued or stalled (broker down, worker died) are started again.",
    ),
    Schedule(
        name=f"{WEBHOOKS_PREFIX}sweep due deliveries",
        task=sweep_due_deliveries_task.name,
        # Every minute: https://crontab.guru/#*_*_*_*_*
        minute="*",
        hour="*",
        expire_seconds=50,
        description="Re-queue lost fan-outs and due deliveries, reclaim stuck sends: nothing is lost.",
    ),
    Schedule(
        name=f"{CORE_PREFIX}delete expired idempotency records",
        task=delete_expired_idempotency_records_task.name,
        # Daily at 03:15 UTC, clear of the tier expiry at 02:30: https://crontab.guru/#15_3_*_*_*
        minute="15",
        hour="3",
        expire_seconds=6 * 60 * 60,
        description="Idempotency-Key records past their 24 hours are deleted, so the table stays a day's size.",
    ),
)


def _crontab(*, minute: str, hour: str) -> CrontabSchedule:
    fields = {
        "minute": minute,
        "hour": hour,
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": UTC,
    }
    # The table has no unique constraint (the beat admin may have added the same crontab twice): take the first.
    existing = CrontabSchedule.objects.filter(**fields).order_by("pk").first()
    return existing or CrontabSchedule.objects.create(**fields)


class Command(BaseCommand):
    help = "Create or update the Celery beat schedules of the periodic jobs (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for schedule in SCHEDULES:
            _entry, created = PeriodicTask.objects.update_or_create(
                name=schedule.name,
                defaults={
                    "task": schedule.task,
                    "crontab": _crontab(minute=schedule.minute, hour=schedule.hour),
                    "interval": None,
                    "solar": None,
                    "clocked": None,
                    "args": "[]",
                    "kwargs": "{}",
                    "expires": None,
                    "expire_seconds": schedule.expire_seconds,
                    "one_off": False,
                    "enabled": True,
                    "description": schedule.description,
                },
            )
            action = "created" if created else "updated"
            self.stdout.write(f"{action}: {schedule.name} ({schedule.task}, {schedule.minute} {schedule.hour} * * *)")
        managed = Q()
        for prefix in MANAGED_PREFIXES:
            managed |= Q(name__startswith=prefix)
        stale = PeriodicTask.objects.filter(managed).exclude(name__in=[schedule.name for schedule in SCHEDULES])
        for entry in stale:
            # One by one: PeriodicTask.delete tells running beats to reload, a queryset delete would not.
            entry.delete()
            self.stdout.write(f"deleted: {entry.name}")
