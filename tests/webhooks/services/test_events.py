"""webhook_event_emit: the outbox row is written in the caller's transaction and delivered after it commits."""

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction
from standardwebhooks import Webhook

from tests.webhooks.helpers import emit_customer_created, endpoint_create_before
from webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent
from webhooks.services.deliveries import webhook_event_fan_out
from webhooks.services.endpoints import webhook_endpoint_create, webhook_endpoint_disable
from webhooks.services.events import webhook_event_emit


@pytest.mark.django_db
def test_emitted_event_is_delivered_signed_after_commit(receiver, django_capture_on_commit_callbacks):
    # given
    now = datetime.now(UTC).replace(microsecond=0)
    endpoint, secret = endpoint_create_before(now, url=receiver.url, event_types=["customer.created"])

    # when
    with time_machine.travel(now, tick=False):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event = emit_customer_created()
            # then: nothing has left while the transaction is open
            assert receiver.requests == []

        # then
        (request,) = receiver.requests
        payload = Webhook(secret).verify(request.body, request.headers)
    assert payload == {
        "id": event.public_id,
        "type": "customer.created",
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entity": {"id": "C000000000001", "version": 1},
        "data": {
            "customer": {
                "id": "C000000000001",
                "status": "active",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
            }
        },
    }
    assert request.headers["webhook-id"] == event.public_id
    assert request.headers["content-type"] == "application/json"
    assert request.path == "/hooks"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event, delivery.status, delivery.attempt_count) == (
        endpoint,
        event,
        WebhookDelivery.Status.SUCCEEDED,
        1,
    )
    assert (delivery.last_status_code, delivery.last_response_body, delivery.last_error) == (200, '{"ok":true}', "")
    attempt = WebhookDeliveryAttempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.error, attempt.response_body) == (1, 200, "", '{"ok":true}')
    assert WebhookEvent.objects.get().fanned_out_at is not None


@pytest.mark.django_db
def test_event_id_and_envelope_are_fixed_when_emitted():
    # given
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC), tick=False):
        # when
        event = webhook_event_emit(
            type="loyalty.tier_changed",
            payload={"account_number": "500000000018", "from_tier": "silver", "to_tier": "gold"},
            entity_id="500000000018",
            updated_at=datetime(2026, 3, 1, 8, 59, tzinfo=UTC),
        )

    # then
    assert event.public_id.startswith("evt_")
    assert len(event.public_id) == 30
    assert event.body == (
        '{"id":"' + event.public_id + '","type":"loyalty.tier_changed","created_at":"2026-03-01T09:00:00.123Z",'
        '"entity":{"id":"500000000018","updated_at":"2026-03-01T08:59:00.000000Z"},'
        '"data":{"account_number":"500000000018","from_tier":"silver","to_tier":"gold"}}'
    )
    assert (event.type, event.entity_id, event.fanned_out_at) == ("loyalty.tier_changed", "500000000018", None)


@pytest.mark.django_db(transaction=True)
def test_a_change_that_rolls_back_emits_nothing_and_one_that_commits_is_delivered(receiver):
    # given: real transactions, so on_commit runs as in production
    webhook_endpoint_create(url=receiver.url, event_types=["*"])

    def customer_create_that_fails() -> None:
        with transaction.atomic():
            emit_customer_created(customer_id="C000000000001")
            raise RuntimeError("the customer could not be saved")

    # when
    with pytest.raises(RuntimeError):
        customer_create_that_fails()
    rolled_back = (WebhookEvent.objects.count(), WebhookDelivery.objects.count(), len(receiver.requests))
    with transaction.atomic():
        committed = emit_customer_created(customer_id="C000000000002")

    # then
    assert rolled_back == (0, 0, 0)
    assert list(WebhookEvent.objects.values_list("entity_id", flat=True)) == ["C000000000002"]
    assert [request.headers["webhook-id"] for request in receiver.requests] == [committed.public_id]


@pytest.mark.django_db
def test_payload_carries_the_entity_version_so_a_receiver_can_discard_stale_updates(
    receiver, django_capture_on_commit_callbacks
):
    # given: ordering is not promised, so version 2 may arrive before version 1
    webhook_endpoint_create(url=receiver.url, event_types=["customer.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        for version, email in ((2, "new@example.com"), (1, "old@example.com")):
            webhook_event_emit(
                type="customer.updated",
                payload={"customer": {"id": "C000000000001", "email": email}},
                entity_id="C000000000001",
                version=version,
            )

    # when: a receiver keeps what it has unless the update is newer
    latest: dict[str, dict] = {}
    for request in receiver.requests:
        envelope = json.loads(request.body)
        entity = envelope["entity"]
        if entity["id"] not in latest or entity["version"] > latest[entity["id"]]["entity"]["version"]:
            latest[entity["id"]] = envelope

    # then
    assert [json.loads(request.body)["entity"] for request in receiver.requests] == [
        {"id": "C000000000001", "version": 2},
        {"id": "C000000000001", "version": 1},
    ]
    assert latest["C000000000001"]["data"] == {"customer": {"id": "C000000000001", "email": "new@example.com"}}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"type": "customer.deleted", "version": 1},
            "Unknown webhook event type 'customer.deleted'; add it to webhooks/catalogue.py first.",
        ),
        (
            {"type": "customer.created"},
            "Give the entity's version or updated_at, so receivers can discard stale updates.",
        ),
    ],
)
def test_emit_refuses_a_programming_error_and_writes_nothing(fields, message):
    # when
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        webhook_event_emit(payload={}, entity_id="C000000000001", **fields)

    # then
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_fan_out_reaches_active_subscribed_endpoints_once(django_capture_on_commit_callbacks):
    # given
    created, _ = webhook_endpoint_create(url="https://a.example.com/h", event_types=["customer.created"])
    points, _ = webhook_endpoint_create(url="https://b.example.com/h", event_types=["loyalty.points_changed"])
    everything, _ = webhook_endpoint_create(url="https://c.example.com/h", event_types=["*"])
    disabled, _ = webhook_endpoint_create(url="https://d.example.com/h", event_types=["*"])
    webhook_endpoint_disable(endpoint=disabled, reason="test")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        event = emit_customer_created()

    # when
    with django_capture_on_commit_callbacks(execute=False):
        first = webhook_event_fan_out(event_pk=event.pk)
        again = webhook_event_fan_out(event_pk=event.pk)
        WebhookEvent.objects.filter(pk=event.pk).update(fanned_out_at=None)
        after_a_lost_update = webhook_event_fan_out(event_pk=event.pk)

    # then
    assert len(queued) == 1
    assert [delivery.endpoint for delivery in first] == [created, everything]
    assert (again, after_a_lost_update) == ([], [])
    assert sorted(WebhookDelivery.objects.values_list("endpoint__url", flat=True)) == [
        "https://a.example.com/h",
        "https://c.example.com/h",
    ]
