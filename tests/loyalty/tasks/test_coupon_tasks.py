"""The coupon jobs in loyalty/tasks.py: expiring due vouchers (beat, hourly) runs every batch, and a second run
changes nothing; the voucher batch sweeper (beat, every 5 minutes) restarts batches left queued or stalled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import CouponDefinition, Voucher, VoucherBatch
from loyalty.services import vouchers
from loyalty.services.voucher_batches import voucher_batches_sweep
from loyalty.tasks import expire_vouchers_task, sweep_voucher_batches_task


@pytest.fixture
def definition(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program, code="flash", name="Flash", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("3")
    )


def test_expire_vouchers_task_expires_every_due_voucher_in_batches_and_a_second_run_changes_nothing(
    definition, monkeypatch, voucher_factory
):
    # given: 5 due vouchers, with batches of 2; one not yet due and one cancelled stay as they are
    monkeypatch.setattr(vouchers, "EXPIRY_BATCH", 2)
    now = timezone.now()
    due = [voucher_factory(definition=definition, expires_at=now - timedelta(minutes=i + 1)) for i in range(5)]
    live = voucher_factory(definition=definition, expires_at=now + timedelta(days=1))
    cancelled = voucher_factory(definition=definition, expires_at=now - timedelta(days=1))
    Voucher.objects.filter(pk=cancelled.pk).update(status=Voucher.Status.CANCELLED)

    # when
    expire_vouchers_task()
    first = dict(Voucher.objects.values_list("pk", "status"))
    expire_vouchers_task()

    # then
    assert {first[voucher.pk] for voucher in due} == {"expired"}
    assert (first[live.pk], first[cancelled.pk]) == ("issued", "cancelled")
    assert dict(Voucher.objects.values_list("pk", "status")) == first


def test_the_coupon_tasks_have_time_limits():
    from loyalty.tasks import generate_voucher_batch_task

    for task in (expire_vouchers_task, generate_voucher_batch_task):
        assert task.soft_time_limit
        assert task.time_limit > task.soft_time_limit


def _batch(definition, status, *, updated_minutes_ago, count=3):
    batch = VoucherBatch.objects.create(definition=definition, requested_count=count, status=status)
    VoucherBatch.objects.filter(pk=batch.pk).update(updated_at=timezone.now() - timedelta(minutes=updated_minutes_ago))
    return batch


def test_the_sweeper_restarts_batches_left_queued_or_stalled_and_only_those(
    definition, django_capture_on_commit_callbacks
):
    # given
    lost = _batch(definition, VoucherBatch.Status.QUEUED, updated_minutes_ago=6)
    just_queued = _batch(definition, VoucherBatch.Status.QUEUED, updated_minutes_ago=1)
    stalled = _batch(definition, VoucherBatch.Status.RUNNING, updated_minutes_ago=16)
    working = _batch(definition, VoucherBatch.Status.RUNNING, updated_minutes_ago=2)
    finished = _batch(definition, VoucherBatch.Status.DONE, updated_minutes_ago=60)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        restarted = voucher_batches_sweep()

    # then
    assert restarted == [lost.pk, stalled.pk]
    assert len(callbacks) == 2
    statuses = dict(VoucherBatch.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: "done",
        just_queued.pk: "queued",
        stalled.pk: "done",
        working.pk: "running",
        finished.pk: "done",
    }
    assert Voucher.objects.count() == 6


def test_a_batch_whose_job_is_still_lost_is_sent_again_one_grace_period_later_not_on_every_sweep(
    definition, django_capture_on_commit_callbacks
):
    # given: the broker is still down (the sent job never runs)
    lost = _batch(definition, VoucherBatch.Status.QUEUED, updated_minutes_ago=6)
    now = timezone.now()

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = voucher_batches_sweep(now=now)
        second = voucher_batches_sweep(now=now + timedelta(minutes=1))
        later = voucher_batches_sweep(now=now + timedelta(minutes=5))

    # then
    assert (first, second, later) == ([lost.pk], [], [lost.pk])
    assert len(callbacks) == 2
    assert not Voucher.objects.exists()


def test_the_sweeper_task_runs_the_sweep(definition, django_capture_on_commit_callbacks):
    # given
    lost = _batch(definition, VoucherBatch.Status.QUEUED, updated_minutes_ago=30, count=2)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        sweep_voucher_batches_task()

    # then
    lost.refresh_from_db()
    assert (lost.status, lost.issued_count) == ("done", 2)
    assert sweep_voucher_batches_task.soft_time_limit
