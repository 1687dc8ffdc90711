"""A broker that is down or hangs: changes commit at their normal speed, and the sweeper delivers their events."""

import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from celery import Celery
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery_app import app as celery_app
from core.enqueue import broker_pause
from crm.models import Customer
from tests.webhooks.helpers import celery_app_configured, emit_customer_created
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services.deliveries import SweepResult, webhook_deliveries_sweep
from webhooks.services.endpoints import webhook_endpoint_create

REFUSING_BROKER = "redis://127.0.0.1:1/0"
SHORT_TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}


@pytest.fixture
def refusing_broker() -> Iterator[Celery]:
    """The project's Celery app publishing for real (not eagerly) to a closed port: every connection is refused."""
    with celery_app_configured(
        celery_app, broker_url=REFUSING_BROKER, broker_transport_options=SHORT_TIMEOUTS, task_always_eager=False
    ) as app:
        yield app


@pytest.fixture
def hanging_broker() -> Iterator[Celery]:
    """The app publishing to a port that accepts no connection: the kernel queues the first one, whose broker
    never answers, and drops the next ones' handshakes, as a broker host behind a dead link does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        with celery_app_configured(
            celery_app,
            broker_url=url,
            broker_transport_options=SHORT_TIMEOUTS,
            broker_connection_timeout=0.2,
            task_always_eager=False,
        ) as app:
            yield app


@pytest.fixture
def publish_attempts(monkeypatch) -> list[str]:
    """The names of the tasks whose publishing was attempted, in order."""
    attempts: list[str] = []
    apply_async = celery_app.Task.apply_async

    def counted(self, *args, **kwargs):
        attempts.append(self.name)
        return apply_async(self, *args, **kwargs)

    monkeypatch.setattr(celery_app.Task, "apply_async", counted)
    return attempts


def emit_twenty_events_in_one_transaction() -> float:
    """Seconds from the start of the transaction to the end of its commit, after-commit publishing included."""
    started = time.perf_counter()
    with transaction.atomic():
        for number in range(20):
            emit_customer_created(customer_id=f"C{number:012d}")
    return time.perf_counter() - started


def sweep_after_the_grace_period() -> SweepResult:
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        return webhook_deliveries_sweep()


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_fail_a_committed_change(pos_client, monkeypatch):
    # given: the broker refuses every message (the beat sweeper sends the work later)
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("celery.app.task.Task.apply_async", broker_down)
    body = {"profile": {"firstName": "Ada", "lastName": "Lovelace"}, "consents": {"loyaltySignUp": True}}

    # when
    response = pos_client.post("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")

    # then
    assert response.status_code == 200
    assert Customer.objects.count() == 1
    assert list(WebhookEvent.objects.order_by("id").values_list("type", "fanned_out_at")) == [
        ("customer.created", None),
        ("loyalty.enrolled", None),
    ]


@pytest.mark.django_db(transaction=True)
def test_each_publish_to_a_refusing_broker_is_tried_once_and_fails_at_once(
    refusing_broker, publish_attempts, receiver, settings
):
    # given: no pause after a failure, so that every one of the 20 publishes goes to the broker (kombu's default
    # retry policy took about 0.6 s for each, 12 s in all)
    settings.ENQUEUE_PAUSE_AFTER_BROKER_ERROR_SECONDS = 0
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])

    # when
    seconds = emit_twenty_events_in_one_transaction()

    # then: committed, published nowhere, and quickly
    assert seconds < 1.0
    assert publish_attempts == ["webhooks.tasks.webhook_event_fan_out_task"] * 20
    assert WebhookEvent.objects.filter(fanned_out_at__isnull=True).count() == 20
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_hanging_broker_costs_one_timeout_then_publishing_pauses(hanging_broker, publish_attempts):
    # given: an endpoint, or the events would queue no task at all
    webhook_endpoint_create(url="https://hooks.example.com/crm", event_types=["*"])

    # when
    seconds = emit_twenty_events_in_one_transaction()

    # then: one attempt, bounded by the broker timeouts; the other 19 were not tried
    assert seconds < 1.0
    assert publish_attempts == ["webhooks.tasks.webhook_event_fan_out_task"]
    assert broker_pause.is_active()
    assert WebhookEvent.objects.filter(fanned_out_at__isnull=True).count() == 20


@pytest.mark.django_db(transaction=True)
def test_what_was_not_published_during_an_outage_is_delivered_by_the_sweeper(receiver, publish_attempts):
    # given: 20 events committed while the broker refused connections
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    with celery_app_configured(
        celery_app, broker_url=REFUSING_BROKER, broker_transport_options=SHORT_TIMEOUTS, task_always_eager=False
    ):
        seconds = emit_twenty_events_in_one_transaction()
    assert seconds < 1.0
    assert len(publish_attempts) == 1

    # when: the broker is back (tasks run eagerly again), the pause is over and the sweeper runs
    broker_pause.end()
    result = sweep_after_the_grace_period()

    # then: every event fanned out and delivered once
    assert result == SweepResult(reclaimed=0, events_queued=20, deliveries_queued=0)
    assert WebhookEvent.objects.filter(fanned_out_at__isnull=True).count() == 0
    assert list(WebhookDelivery.objects.values_list("endpoint", "status")) == [(endpoint.pk, "succeeded")] * 20
    assert sorted(request.headers["webhook-id"] for request in receiver.requests) == sorted(
        WebhookEvent.objects.values_list("public_id", flat=True)
    )
    assert len(receiver.requests) == 20


@pytest.mark.django_db(transaction=True)
def test_publishing_resumes_when_the_pause_is_over(refusing_broker, publish_attempts, monkeypatch):
    # given: one failed publish has started the pause (10 s by default)
    webhook_endpoint_create(url="https://hooks.example.com/crm", event_types=["*"])
    clock = [1000.0]
    monkeypatch.setattr("core.enqueue.time.monotonic", lambda: clock[0])
    emit_customer_created(customer_id="C000000000001")
    assert publish_attempts == ["webhooks.tasks.webhook_event_fan_out_task"]

    # when
    clock[0] += 9.9
    emit_customer_created(customer_id="C000000000002")
    clock[0] += 0.1
    emit_customer_created(customer_id="C000000000003")

    # then: the second was not tried, the third was
    assert publish_attempts == ["webhooks.tasks.webhook_event_fan_out_task"] * 2
