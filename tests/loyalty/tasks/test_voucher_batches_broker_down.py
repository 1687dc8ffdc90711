"""A voucher batch queued while the broker is unreachable: the request is not held, the batch waits in the
database, and the batch sweeper (beat, every 5 minutes) starts its job once the broker is back."""

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from config.celery_app import app as celery_app
from core.enqueue import broker_pause
from loyalty.models import CouponDefinition, Voucher, VoucherBatch
from loyalty.services.voucher_batches import voucher_batch_create
from loyalty.tasks import sweep_voucher_batches_task
from tests.webhooks.helpers import celery_app_configured


@pytest.fixture(autouse=True)
def broker_pause_ended() -> Iterator[None]:
    """The failed publish pauses publishing in this process: the next test starts without the pause."""
    yield
    broker_pause.end()


@pytest.fixture
def definition(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program, code="flash", name="Flash", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("3")
    )


@pytest.mark.django_db(transaction=True)
def test_a_batch_queued_while_the_broker_is_unreachable_is_generated_by_the_sweeper_once_it_is_back(definition):
    # given: the broker refuses connections while three batches are queued
    with celery_app_configured(
        celery_app,
        broker_url="redis://127.0.0.1:1/0",
        broker_transport_options={"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        task_always_eager=False,
    ):
        started = time.perf_counter()
        batches = [voucher_batch_create(definition=definition, count=2) for _ in range(3)]
        seconds = time.perf_counter() - started
    assert seconds < 1.0
    assert set(VoucherBatch.objects.values_list("status", flat=True)) == {"queued"}

    # when: the broker is back (tasks run eagerly again), the pause is over and the sweeper runs after the grace
    broker_pause.end()
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        sweep_voucher_batches_task()

    # then
    assert dict(VoucherBatch.objects.values_list("pk", "status")) == {batch.pk: "done" for batch in batches}
    assert Voucher.objects.count() == 6
