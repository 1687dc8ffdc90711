"""The coupon jobs in loyalty/tasks.py: expiring due vouchers (beat, hourly) runs every batch, and a second run
changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import CouponDefinition, Voucher
from loyalty.services import coupons
from loyalty.services.coupons import coupon_definition_create, voucher_issue
from loyalty.tasks import expire_vouchers_task


@pytest.fixture
def definition(program):
    return coupon_definition_create(
        program=program, code="flash", name="Flash", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("3")
    )


def test_expire_vouchers_task_expires_every_due_voucher_in_batches_and_a_second_run_changes_nothing(
    definition, monkeypatch
):
    # given: 5 due vouchers, with batches of 2; one not yet due and one cancelled stay as they are
    monkeypatch.setattr(coupons, "EXPIRY_BATCH", 2)
    now = timezone.now()
    due = [voucher_issue(definition=definition, expires_at=now - timedelta(minutes=i + 1)) for i in range(5)]
    live = voucher_issue(definition=definition, expires_at=now + timedelta(days=1))
    cancelled = voucher_issue(definition=definition, expires_at=now - timedelta(days=1))
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
