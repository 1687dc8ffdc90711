"""Delivery: the retry schedule, which answers retry and which end it, disabling an endpoint, timeouts."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.webhooks.helpers import closed_port_url, emit_customer_created, endpoint_create_before, verified
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import webhook_deliveries_sweep, webhook_delivery_attempt

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _attempts(delivery: WebhookDelivery) -> list[tuple]:
    return list(delivery.attempts.values_list("number", "attempted_at", "status_code", "error"))


@pytest.mark.django_db
def test_receiver_down_for_three_attempts_then_up_gets_exactly_one_success_with_one_webhook_id(
    receiver, django_capture_on_commit_callbacks, settings
):
    # given
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver.respond_with(503, 503, 503)
    _endpoint, secret = endpoint_create_before(START, url=receiver.url, event_types=["customer.created"])
    next_attempts = []

    # when: the first attempt on commit, then whatever is due each time the clock reaches it
    with time_machine.travel(START, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            event = emit_customer_created()
        delivery = WebhookDelivery.objects.get()
        for _ in range(3):
            delivery.refresh_from_db()
            next_attempts.append(delivery.next_attempt_at)
            clock.move_to(delivery.next_attempt_at)
            with django_capture_on_commit_callbacks(execute=True):
                webhook_deliveries_sweep()

    # then
    delivery.refresh_from_db()
    assert next_attempts == [
        START + timedelta(seconds=5),
        START + timedelta(seconds=305),
        START + timedelta(seconds=2105),
    ]
    assert (delivery.status, delivery.attempt_count, delivery.succeeded_at) == (
        WebhookDelivery.Status.SUCCEEDED,
        4,
        START + timedelta(seconds=2105),
    )
    assert _attempts(delivery) == [
        (1, START, 503, "HTTP 503"),
        (2, START + timedelta(seconds=5), 503, "HTTP 503"),
        (3, START + timedelta(seconds=305), 503, "HTTP 503"),
        (4, START + timedelta(seconds=2105), 200, ""),
    ]
    assert [request.headers["webhook-id"] for request in receiver.requests] == [event.public_id] * 4
    assert {request.body for request in receiver.requests} == {event.body.encode()}
    assert [verified(secret, request)["id"] for request in receiver.requests] == [event.public_id] * 4
    assert WebhookEndpoint.objects.get().failing_since is None


@pytest.mark.django_db
def test_retry_schedule_is_the_ladder_and_ends_in_failure(receiver, django_capture_on_commit_callbacks, settings):
    # given
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver.default_status = 500
    endpoint_create_before(START, url=receiver.url, event_types=["*"])
    delays = []

    # when
    with time_machine.travel(START, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            emit_customer_created()
        delivery = WebhookDelivery.objects.get()
        while delivery.status == WebhookDelivery.Status.PENDING:
            delays.append(int((delivery.next_attempt_at - timezone.now()).total_seconds()))
            clock.move_to(delivery.next_attempt_at)
            with django_capture_on_commit_callbacks(execute=True):
                webhook_deliveries_sweep()
            delivery.refresh_from_db()

    # then
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
        WebhookDelivery.Status.FAILED,
        8,
        None,
    )
    assert len(receiver.requests) == 8


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 413, 422])
def test_a_terminal_4xx_stops_retries(status, receiver, django_capture_on_commit_callbacks, settings):
    # given
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver.respond_with(status)
    endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()

    # when: a day later the sweeper finds nothing to send
    with time_machine.travel(timezone.now() + timedelta(days=1)), django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()

    # then
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at, delivery.last_status_code) == (
        WebhookDelivery.Status.FAILED,
        1,
        None,
        status,
    )
    assert len(receiver.requests) == 1
    assert WebhookEndpoint.objects.get().is_active is True


@pytest.mark.django_db
@pytest.mark.parametrize("status", [301, 302, 408, 429, 500, 502, 503])
def test_3xx_408_429_and_5xx_are_retried_after_5_seconds(status, receiver, django_capture_on_commit_callbacks):
    # given
    receiver.respond_with(status)
    endpoint_create_before(START, url=receiver.url, event_types=["*"])

    # when
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()

    # then
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at, delivery.last_error) == (
        WebhookDelivery.Status.PENDING,
        1,
        START + timedelta(seconds=5),
        f"HTTP {status}",
    )


@pytest.mark.django_db
def test_410_gone_disables_the_endpoint_and_fails_its_other_pending_deliveries(
    receiver, django_capture_on_commit_callbacks
):
    # given: one delivery waiting for its retry, then the receiver says it is gone for good
    receiver.respond_with(503, 410)
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        waiting = emit_customer_created(customer_id="C000000000001")

    # when
    with (
        time_machine.travel(START + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        gone = emit_customer_created(customer_id="C000000000002")
    with django_capture_on_commit_callbacks(execute=True):
        later = emit_customer_created(customer_id="C000000000003")

    # then
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason) == (
        False,
        START + timedelta(seconds=1),
        "The receiver answered 410 Gone.",
    )
    assert WebhookDelivery.objects.get(event=gone).status == WebhookDelivery.Status.FAILED
    waiting_delivery = WebhookDelivery.objects.get(event=waiting)
    assert (waiting_delivery.status, waiting_delivery.last_error) == (
        WebhookDelivery.Status.FAILED,
        "Not sent: the endpoint was disabled (The receiver answered 410 Gone.).",
    )
    assert not WebhookDelivery.objects.filter(event=later).exists()
    assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_an_endpoint_failing_for_5_days_is_disabled(receiver, django_capture_on_commit_callbacks):
    # given
    receiver.default_status = 500
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created(customer_id="C000000000001")
    with time_machine.travel(START + timedelta(days=5, seconds=-1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            emit_customer_created(customer_id="C000000000002")
        endpoint.refresh_from_db()
        still_active = endpoint.is_active

    # when
    with time_machine.travel(START + timedelta(days=5), tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created(customer_id="C000000000003")

    # then
    endpoint.refresh_from_db()
    assert still_active is True
    assert (endpoint.is_active, endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason) == (
        False,
        START,
        START + timedelta(days=5),
        "Every delivery failed for 5 days (since 2026-03-01T09:00:00+00:00).",
    )
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.FAILED}


@pytest.mark.django_db
def test_a_success_ends_the_failing_streak(receiver, django_capture_on_commit_callbacks):
    # given
    receiver.respond_with(500)
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created(customer_id="C000000000001")
    endpoint.refresh_from_db()
    failing_since = endpoint.failing_since

    # when
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created(customer_id="C000000000002")

    # then
    endpoint.refresh_from_db()
    assert (failing_since, endpoint.failing_since) == (START, None)


@pytest.mark.django_db
def test_a_read_timeout_is_retried(receiver, django_capture_on_commit_callbacks, settings):
    # given
    settings.WEBHOOK_TIMEOUTS = {"connect": 1.0, "read": 0.2}
    receiver.delay_seconds = 1.0
    endpoint_create_before(START, url=receiver.url, event_types=["*"])

    # when
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()

    # then
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code, delivery.last_error, delivery.next_attempt_at) == (
        WebhookDelivery.Status.PENDING,
        None,
        "ReadTimeout: timed out",
        START + timedelta(seconds=5),
    )
    assert 200 <= delivery.duration_ms < 1000


@pytest.mark.django_db
def test_a_refused_connection_is_retried(django_capture_on_commit_callbacks):
    # given
    endpoint_create_before(START, url=closed_port_url(), event_types=["*"])

    # when
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()

    # then
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code, delivery.last_error, delivery.next_attempt_at) == (
        WebhookDelivery.Status.PENDING,
        None,
        "ConnectError: [Errno 111] Connection refused",
        START + timedelta(seconds=5),
    )
    assert delivery.attempts.get().error == "ConnectError: [Errno 111] Connection refused"


@pytest.mark.django_db
def test_only_the_first_kilobyte_of_the_response_is_kept(receiver, django_capture_on_commit_callbacks):
    # given
    receiver.response_body = b"x" * 5000
    endpoint_create_before(START, url=receiver.url, event_types=["*"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()

    # then
    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_response_body, delivery.attempts.get().response_body) == ("x" * 1024, "x" * 1024)


@pytest.mark.django_db
def test_nothing_is_sent_before_it_is_due_or_after_it_is_finished(receiver, django_capture_on_commit_callbacks):
    # given
    receiver.respond_with(503)
    endpoint_create_before(START, url=receiver.url, event_types=["*"])
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()
    delivery = WebhookDelivery.objects.get()

    # when
    with time_machine.travel(START + timedelta(seconds=4), tick=False):
        early = webhook_delivery_attempt(delivery_pk=delivery.pk)
    with time_machine.travel(START + timedelta(seconds=5), tick=False):
        due = webhook_delivery_attempt(delivery_pk=delivery.pk)
        finished = webhook_delivery_attempt(delivery_pk=delivery.pk)

    # then
    assert (early, finished) == (None, None)
    assert (due.status, due.attempt_count) == (WebhookDelivery.Status.SUCCEEDED, 2)
    assert len(receiver.requests) == 2
