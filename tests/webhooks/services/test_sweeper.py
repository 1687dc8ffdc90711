"""The sweeper: a lost task message or a killed worker delays a delivery, never loses it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.webhooks.helpers import emit_customer_created, endpoint_create_before, lost_delivery, verified
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import deliveries
from webhooks.services.deliveries import SweepResult, webhook_deliveries_sweep
from webhooks.tasks import sweep_due_deliveries_task, webhook_delivery_send_task

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even except Exception blocks."""


@pytest.mark.django_db
def test_sweeper_delivers_what_lost_its_task_message(receiver, django_capture_on_commit_callbacks):
    # given: two deliveries written but never queued, and an event whose fan-out message was lost
    endpoint, secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False):
        first = lost_delivery(endpoint, entity_id="C000000000001")
        second = lost_delivery(endpoint, entity_id="C000000000002")
        with django_capture_on_commit_callbacks(execute=False) as dropped:
            unfanned = emit_customer_created(customer_id="C000000000003")

    # when: the sweeper runs once the grace period (30 s) is over
    with (
        time_machine.travel(START + timedelta(seconds=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = webhook_deliveries_sweep()

    # then
    assert len(dropped) == 1
    assert result == SweepResult(reclaimed=0, events_queued=1, deliveries_queued=2)
    assert sorted(request.headers["webhook-id"] for request in receiver.requests) == sorted(
        [first.event.public_id, second.event.public_id, unfanned.public_id]
    )
    assert all(verified(secret, request) for request in receiver.requests)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.SUCCEEDED}
    assert WebhookEvent.objects.filter(fanned_out_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_sweeper_leaves_what_is_within_its_grace_period(receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False):
        lost_delivery(endpoint, entity_id="C000000000001")
        with django_capture_on_commit_callbacks(execute=False):
            emit_customer_created()

    # when
    with (
        time_machine.travel(START + timedelta(seconds=29), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = webhook_deliveries_sweep()

    # then
    assert result == SweepResult(reclaimed=0, events_queued=0, deliveries_queued=0)
    assert receiver.requests == []


@pytest.mark.django_db
def test_sweeper_reclaims_a_delivery_stuck_in_sending(receiver, django_capture_on_commit_callbacks):
    # given: claimed 301 s ago by a worker that died; another claimed 299 s ago is still someone's
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    stuck = lost_delivery(endpoint, entity_id="C000000000001")
    busy = lost_delivery(endpoint, entity_id="C000000000002")
    WebhookDelivery.objects.filter(pk=stuck.pk).update(
        status="sending", claimed_at=START - timedelta(seconds=301), attempt_count=1, attempts_in_cycle=1
    )
    WebhookDelivery.objects.filter(pk=busy.pk).update(
        status="sending", claimed_at=START - timedelta(seconds=299), attempt_count=1, attempts_in_cycle=1
    )

    # when
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = sweep_due_deliveries_task.delay()

    # then
    assert result.successful()
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, stuck.attempt_count, busy.status) == (WebhookDelivery.Status.SUCCEEDED, 2, "sending")
    assert list(stuck.attempts.values_list("number", "attempted_at", "status_code", "error")) == [
        (
            1,
            START - timedelta(seconds=301),
            None,
            "Interrupted: no result recorded within 300 s of the claim (the worker stopped).",
        ),
        (2, START, 200, ""),
    ]
    assert [request.headers["webhook-id"] for request in receiver.requests] == [stuck.event.public_id]


@pytest.mark.django_db
def test_worker_killed_in_the_middle_of_a_batch_loses_nothing(
    receiver, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a worker takes three deliveries and dies after sending the second, before recording its result
    endpoint, secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False):
        batch = [lost_delivery(endpoint, entity_id=f"C00000000000{number}") for number in (1, 2, 3)]
    record = deliveries._attempt_record
    calls = []

    def record_then_die_on_the_second(**kwargs):
        calls.append(kwargs["delivery"].pk)
        if len(calls) == 2:
            raise WorkerKilled
        record(**kwargs)

    def worker_takes_the_batch() -> None:
        for delivery in batch:
            webhook_delivery_send_task.delay(delivery.pk)

    monkeypatch.setattr(deliveries, "_attempt_record", record_then_die_on_the_second)
    with time_machine.travel(START, tick=False), pytest.raises(WorkerKilled):
        worker_takes_the_batch()
    monkeypatch.setattr(deliveries, "_attempt_record", record)

    # when: the sweeper runs once the claim is stale
    with (
        time_machine.travel(START + timedelta(minutes=6), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        webhook_deliveries_sweep()

    # then: everything arrived; the only duplicate is the one at-least-once allows, and it carries the same id
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    first, second, third = (delivery.event.public_id for delivery in batch)
    assert sorted(ids) == sorted([first, second, second, third])
    assert all(verified(secret, request) for request in receiver.requests)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.SUCCEEDED}
    assert WebhookDelivery.objects.get(pk=batch[1].pk).attempt_count == 2


@pytest.mark.django_db
def test_sweeper_skips_disabled_endpoints(receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    lost_delivery(endpoint, entity_id="C000000000001", due=timezone.now() - timedelta(minutes=5))
    endpoint.__class__.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_at=timezone.now())

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = webhook_deliveries_sweep()

    # then
    assert result == SweepResult(reclaimed=0, events_queued=0, deliveries_queued=0)
    assert receiver.requests == []
