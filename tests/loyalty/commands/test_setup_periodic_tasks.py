"""`manage.py setup_periodic_tasks` writes the beat schedule, and running it again changes nothing."""

from io import StringIO

from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.celery_app import app as celery_app

SCHEDULE = [
    # name, task, minute, hour, expire_seconds
    (
        "core: delete expired idempotency records",
        "core.tasks.delete_expired_idempotency_records_task",
        "15",
        "3",
        21600,
    ),
    ("loyalty: confirm due purchases", "loyalty.tasks.confirm_due_purchases_task", "*/15", "*", 840),
    ("loyalty: evaluate tier expiry", "loyalty.tasks.evaluate_tier_expiry_task", "30", "2", 21600),
    ("loyalty: expire points", "loyalty.tasks.expire_points_task", "5", "*", 3300),
    ("loyalty: expire vouchers", "loyalty.tasks.expire_vouchers_task", "10", "*", 3300),
    ("loyalty: sweep voucher batches", "loyalty.tasks.sweep_voucher_batches_task", "*/5", "*", 240),
    ("webhooks: sweep due deliveries", "webhooks.tasks.sweep_due_deliveries_task", "*", "*", 50),
]


def setup_periodic_tasks() -> str:
    out = StringIO()
    call_command("setup_periodic_tasks", stdout=out)
    return out.getvalue()


def schedule_rows() -> list[tuple]:
    return list(
        PeriodicTask.objects.order_by("name").values_list(
            "name", "task", "crontab__minute", "crontab__hour", "expire_seconds"
        )
    )


def test_it_schedules_every_job_in_utc(db):
    # when
    out = setup_periodic_tasks()

    # then
    assert schedule_rows() == SCHEDULE
    entries = PeriodicTask.objects.select_related("crontab")
    assert {str(entry.crontab.timezone) for entry in entries} == {"UTC"}
    assert {
        (entry.crontab.day_of_week, entry.crontab.day_of_month, entry.crontab.month_of_year) for entry in entries
    } == {("*", "*", "*")}
    assert {(entry.enabled, entry.one_off, entry.expires, entry.args, entry.kwargs) for entry in entries} == {
        (True, False, None, "[]", "{}")
    }
    assert out.splitlines() == [
        "created: loyalty: confirm due purchases (loyalty.tasks.confirm_due_purchases_task, */15 * * * *)",
        "created: loyalty: expire points (loyalty.tasks.expire_points_task, 5 * * * *)",
        "created: loyalty: evaluate tier expiry (loyalty.tasks.evaluate_tier_expiry_task, 30 2 * * *)",
        "created: loyalty: expire vouchers (loyalty.tasks.expire_vouchers_task, 10 * * * *)",
        "created: loyalty: sweep voucher batches (loyalty.tasks.sweep_voucher_batches_task, */5 * * * *)",
        "created: webhooks: sweep due deliveries (webhooks.tasks.sweep_due_deliveries_task, * * * * *)",
        "created: core: delete expired idempotency records "
        "(core.tasks.delete_expired_idempotency_records_task, 15 3 * * *)",
    ]


def test_every_scheduled_task_is_registered_with_the_worker(db):
    # given
    setup_periodic_tasks()
    celery_app.loader.import_default_modules()

    # when
    names = set(PeriodicTask.objects.values_list("task", flat=True))

    # then
    assert names <= set(celery_app.tasks)


def test_running_it_again_changes_nothing(db):
    # given
    setup_periodic_tasks()
    rows = schedule_rows()
    crontab_pks = sorted(CrontabSchedule.objects.values_list("pk", flat=True))
    entry_pks = sorted(PeriodicTask.objects.values_list("pk", flat=True))

    # when
    out = setup_periodic_tasks()

    # then
    assert schedule_rows() == rows
    assert sorted(CrontabSchedule.objects.values_list("pk", flat=True)) == crontab_pks
    assert sorted(PeriodicTask.objects.values_list("pk", flat=True)) == entry_pks
    assert [line.split(":")[0] for line in out.splitlines()] == ["updated"] * 7


def test_it_puts_back_a_schedule_changed_by_hand_and_drops_its_own_stale_entries(db):
    # given
    setup_periodic_tasks()
    hourly = CrontabSchedule.objects.create(minute="0", hour="*")
    PeriodicTask.objects.filter(name="loyalty: expire points").update(crontab=hourly, enabled=False, expire_seconds=1)
    PeriodicTask.objects.create(name="loyalty: retired job", task="loyalty.tasks.retired_task", crontab=hourly)
    PeriodicTask.objects.create(name="ops: vacuum", task="ops.tasks.vacuum_task", crontab=hourly)

    # when
    out = setup_periodic_tasks()

    # then
    assert [row for row in schedule_rows() if not row[0].startswith("ops: ")] == SCHEDULE
    assert PeriodicTask.objects.get(name="loyalty: expire points").enabled is True
    assert PeriodicTask.objects.filter(name="ops: vacuum").exists()
    assert out.splitlines()[-1] == "deleted: loyalty: retired job"
