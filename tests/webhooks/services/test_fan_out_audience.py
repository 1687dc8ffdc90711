"""Which endpoints an event goes to when it is fanned out, possibly long after it occurred (a backlog, a broker
outage): those receiving events when it occurred, that are active and subscribed to its type at fan-out."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.webhooks.helpers import emit_customer_created
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services.deliveries import webhook_event_fan_out
from webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_endpoint_update,
)
from webhooks.services.events import webhook_event_emit

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> time_machine.travel:
    return time_machine.travel(START + timedelta(seconds=seconds), tick=False)


def emit_not_fanned_out(django_capture_on_commit_callbacks, **fields) -> WebhookEvent:
    """An event whose fan-out task waits in a backlog: recorded, not fanned out."""
    with django_capture_on_commit_callbacks(execute=False):
        return emit_customer_created(**fields)


def fan_out_all(django_capture_on_commit_callbacks) -> list[tuple[str, str]]:
    """Fan out every waiting event (sending nothing) and return (event entity, endpoint URL) of each delivery."""
    with at(3600), django_capture_on_commit_callbacks(execute=False):
        for event_pk in WebhookEvent.objects.order_by("pk").values_list("pk", flat=True):
            webhook_event_fan_out(event_pk=event_pk)
    return list(
        WebhookDelivery.objects.order_by("event_id", "endpoint_id").values_list("event__entity_id", "endpoint__url")
    )


@pytest.mark.django_db
def test_an_endpoint_created_after_an_event_occurred_does_not_receive_it(django_capture_on_commit_callbacks):
    # given: an event waiting for its fan-out while a second endpoint is created
    with at(0):
        webhook_endpoint_create(url="https://early.example.com/h", event_types=["*"])
    with at(10):
        emit_not_fanned_out(django_capture_on_commit_callbacks, customer_id="C000000000001")
    with at(20):
        webhook_endpoint_create(url="https://late.example.com/h", event_types=["*"])
    with at(30):
        emit_not_fanned_out(django_capture_on_commit_callbacks, customer_id="C000000000002")

    # when
    deliveries = fan_out_all(django_capture_on_commit_callbacks)

    # then
    assert deliveries == [
        ("C000000000001", "https://early.example.com/h"),
        ("C000000000002", "https://early.example.com/h"),
        ("C000000000002", "https://late.example.com/h"),
    ]


@pytest.mark.django_db
def test_an_endpoint_created_at_the_instant_of_the_event_receives_it(django_capture_on_commit_callbacks):
    # given
    with at(0):
        webhook_endpoint_create(url="https://same.example.com/h", event_types=["*"])
        emit_not_fanned_out(django_capture_on_commit_callbacks)

    # when
    deliveries = fan_out_all(django_capture_on_commit_callbacks)

    # then
    assert deliveries == [("C000000000001", "https://same.example.com/h")]


@pytest.mark.django_db
def test_a_re_enabled_endpoint_receives_only_events_that_occurred_after_it_was_re_enabled(
    django_capture_on_commit_callbacks,
):
    # given: an event from while it was disabled and one from after, both still waiting for their fan-out
    with at(0):
        endpoint, _secret = webhook_endpoint_create(url="https://hooks.example.com/h", event_types=["*"])
    with at(10):
        webhook_endpoint_disable(endpoint=endpoint, reason="Every delivery failed for 5 days.")
    with at(20):
        emit_not_fanned_out(django_capture_on_commit_callbacks, customer_id="C000000000001")
    with at(30):
        webhook_endpoint_enable(endpoint=endpoint)
    with at(40):
        emit_not_fanned_out(django_capture_on_commit_callbacks, customer_id="C000000000002")

    # when
    deliveries = fan_out_all(django_capture_on_commit_callbacks)

    # then
    assert deliveries == [("C000000000002", "https://hooks.example.com/h")]
    endpoint.refresh_from_db()
    assert endpoint.reenabled_at == START + timedelta(seconds=30)


@pytest.mark.django_db
def test_re_enabling_an_endpoint_that_is_active_changes_nothing(django_capture_on_commit_callbacks):
    # given: an active endpoint with an event waiting for its fan-out
    with at(0):
        endpoint, _secret = webhook_endpoint_create(url="https://hooks.example.com/h", event_types=["*"])
    with at(10):
        emit_not_fanned_out(django_capture_on_commit_callbacks)

    # when: re-enabled all the same (the admin action on a selection that includes it)
    with at(20):
        webhook_endpoint_enable(endpoint=endpoint)
    deliveries = fan_out_all(django_capture_on_commit_callbacks)

    # then
    assert deliveries == [("C000000000001", "https://hooks.example.com/h")]
    endpoint.refresh_from_db()
    assert endpoint.reenabled_at is None


@pytest.mark.django_db
def test_the_subscription_is_the_one_at_fan_out(django_capture_on_commit_callbacks):
    # given: events of two types waiting for their fan-out while the endpoint swaps one type for the other
    with at(0):
        endpoint, _secret = webhook_endpoint_create(url="https://hooks.example.com/h", event_types=["customer.created"])
    with at(10):
        emit_not_fanned_out(django_capture_on_commit_callbacks, customer_id="C000000000001")
        with django_capture_on_commit_callbacks(execute=False):
            webhook_event_emit(
                type="customer.updated",
                payload={"customer": {"id": "C000000000002"}, "changed_fields": ["email"]},
                entity_id="C000000000002",
                version=2,
            )
    with at(20):
        webhook_endpoint_update(endpoint=endpoint, url=endpoint.url, event_types=["customer.updated"], description="")

    # when
    deliveries = fan_out_all(django_capture_on_commit_callbacks)

    # then: the type it left is no longer sent; the type it took is, for an event after its creation
    assert deliveries == [("C000000000002", "https://hooks.example.com/h")]
