"""Payload formats: an endpoint gets our Standard Webhooks envelope (the default) or Antavo's flat body, chosen per
endpoint when each delivery is sent, signed over the bytes sent."""

import io
import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from tests.webhooks.helpers import emit_customer_created, verified
from webhooks.catalogue import CATALOGUE
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import webhook_deliveries_sweep
from webhooks.services.endpoints import webhook_endpoint_create, webhook_endpoint_update
from webhooks.services.events import webhook_event_emit

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# Antavo's published voucher_claimed message (shared/seeds/003_*, "Webhook example"), with our customer id.
ANTAVO_VOUCHER_CLAIMED = {
    "consentGuid": "C000000000001",
    "customerId": "C000000000001",
    "voucherCode": "COUPON-123456",
    "voucherStatus": "claimed",
    "voucherType": "percentage",
    "value": "10",
    "voucherName": "Welcome_10",
    "expiresAt": "2024-05-16T21:59:00+00:00",
    "createdAt": "2024-05-02T12:42:58+00:00",
    "claimedAt": "2024-05-02T12:42:58+00:00",
    "eventName": "voucher_claimed",
}


def _endpoints(url, event_types):
    with time_machine.travel(START.replace(minute=0, hour=8), tick=False):
        antavo, antavo_secret = webhook_endpoint_create(url=url, event_types=event_types, payload_format="antavo")
        standard, standard_secret = webhook_endpoint_create(url=url + "?standard", event_types=event_types)
    return (antavo, antavo_secret), (standard, standard_secret)


@pytest.mark.django_db
def test_an_antavo_endpoint_gets_voucher_claimed_flat_as_antavo_sends_it_and_a_standard_one_the_envelope(
    receiver, django_capture_on_commit_callbacks
):
    # given
    (_antavo, antavo_secret), (_standard, standard_secret) = _endpoints(receiver.url, ["coupon.claimed"])
    assert set(CATALOGUE["coupon.claimed"].example_data) == set(ANTAVO_VOUCHER_CLAIMED)

    # when
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        event = webhook_event_emit(
            type="coupon.claimed", payload=ANTAVO_VOUCHER_CLAIMED, entity_id="COUPON-123456", version=1
        )

    # then
    by_path = {request.path: request for request in receiver.requests}
    flat, envelope = by_path["/hooks"], by_path["/hooks?standard"]
    assert json.loads(flat.body) == ANTAVO_VOUCHER_CLAIMED
    assert flat.headers["webhook-id"] == event.public_id
    verified(antavo_secret, flat)  # signed over the flat body it carries
    assert envelope.body == event.body.encode()
    assert verified(standard_secret, envelope)["data"] == ANTAVO_VOUCHER_CLAIMED


@pytest.mark.django_db
def test_other_events_go_flat_with_antavo_event_name_and_every_retry_sends_the_same_bytes(
    receiver, django_capture_on_commit_callbacks, settings
):
    # given
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver.respond_with(503)
    with time_machine.travel(START.replace(hour=8), tick=False):
        webhook_endpoint_create(url=receiver.url, event_types=["customer.created"], payload_format="antavo")

    # when
    with time_machine.travel(START, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            event = emit_customer_created()
        clock.move_to(WebhookDelivery.objects.get().next_attempt_at)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_deliveries_sweep()

    # then
    first, second = receiver.requests
    assert first.body == second.body
    envelope = event.envelope()
    assert json.loads(first.body) == {
        "eventName": "customer_created",
        "eventId": event.public_id,
        "createdAt": envelope["created_at"],
        "customer": envelope["data"]["customer"],
    }
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED


@pytest.mark.django_db
def test_the_format_is_a_setting_of_the_endpoint_changed_through_the_service():
    # given
    endpoint, _secret = webhook_endpoint_create(url="https://pos.example.com/hooks", event_types=["*"])

    # when
    webhook_endpoint_update(
        endpoint=endpoint, url=endpoint.url, event_types=["*"], description="", payload_format="antavo"
    )

    # then
    assert endpoint.payload_format == WebhookEndpoint.PayloadFormat.ANTAVO
    assert WebhookEndpoint.objects.get().payload_format == "antavo"


@pytest.mark.django_db
def test_the_command_creates_an_antavo_endpoint():
    # when
    call_command(
        "create_webhook_endpoint",
        "https://pos.example.com/antavo",
        events="coupon.claimed",
        payload_format="antavo",
        stdout=io.StringIO(),
    )

    # then
    assert WebhookEndpoint.objects.get().payload_format == "antavo"
