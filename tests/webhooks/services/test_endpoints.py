"""Endpoints: subscription validation, the test ping, secret rotation with an overlap, re-enabling."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from core.exceptions import ApplicationError
from tests.webhooks.helpers import emit_customer_created, verified
from webhooks.error_codes import WebhookErrorCode
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
)


@pytest.mark.django_db
def test_create_stores_sorted_known_types_and_treats_star_as_everything():
    # when
    listed, listed_secret = webhook_endpoint_create(
        url="https://hooks.example.com/a",
        event_types=[" loyalty.points_changed", "customer.created", "customer.created"],
    )
    everything, _secret = webhook_endpoint_create(
        url="https://hooks.example.com/b", event_types=["customer.created", "*"]
    )

    # then
    assert listed.event_types == ["customer.created", "loyalty.points_changed"]
    assert everything.event_types == ["*"]
    assert listed.secret == listed_secret
    assert (listed.is_active, listed.previous_secret, listed.failing_since) == (True, "", None)


@pytest.mark.django_db
def test_create_refuses_unknown_event_types_and_bad_urls_and_writes_nothing():
    # when
    with pytest.raises(ApplicationError) as unknown:
        webhook_endpoint_create(url="https://hooks.example.com/a", event_types=["customer.created", "order.placed"])
    with pytest.raises(ValidationError) as bad_url:
        webhook_endpoint_create(url="ftp://hooks.example.com/a", event_types=["customer.created"])

    # then
    assert unknown.value.code == WebhookErrorCode.UNKNOWN_EVENT_TYPE
    assert unknown.value.message == (
        "Unknown event types: order.placed. Known event types: customer.created, customer.updated, customer.erased, "
        "loyalty.enrolled, loyalty.opted_out, loyalty.points_changed, loyalty.tier_changed, coupon.issued, "
        "coupon.claimed, coupon.redeemed, purchase.accepted, purchase.refunded."
    )
    assert bad_url.value.message_dict == {"url": ["Enter a valid URL."]}
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.django_db
def test_ping_goes_to_that_endpoint_only(receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, secret = webhook_endpoint_create(url=receiver.url, event_types=["customer.created"])
    webhook_endpoint_create(url="https://other.example.com/hooks", event_types=["*"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_endpoint_ping(endpoint=endpoint)

    # then
    (request,) = receiver.requests
    payload = verified(secret, request)
    assert (payload["type"], payload["data"]) == (
        "webhook.ping",
        {"message": "Test ping from the retail CRM back office.", "url": receiver.url},
    )
    assert payload["id"] == request.headers["webhook-id"] == delivery.event.public_id
    assert list(WebhookDelivery.objects.values_list("endpoint", "status")) == [(endpoint.pk, "succeeded")]
    assert WebhookEvent.objects.get().fanned_out_at is not None


@pytest.mark.django_db
def test_ping_refuses_a_disabled_endpoint():
    # given
    endpoint, _secret = webhook_endpoint_create(url="https://hooks.example.com/a", event_types=["*"])
    webhook_endpoint_disable(endpoint=endpoint, reason="test")

    # when
    with pytest.raises(ApplicationError) as error:
        webhook_endpoint_ping(endpoint=endpoint)

    # then
    assert (error.value.code, error.value.message) == (
        WebhookErrorCode.ENDPOINT_DISABLED,
        "https://hooks.example.com/a is disabled: re-enable it first.",
    )
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_after_a_rotation_both_secrets_verify_until_the_overlap_ends(receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, old_secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    new_secret = webhook_endpoint_rotate_secret(endpoint=endpoint)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created(customer_id="C000000000001")
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            emit_customer_created(customer_id="C000000000002")
        during, after = receiver.requests

    # then
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verified(old_secret, during)["entity"]["id"] == verified(new_secret, during)["entity"]["id"]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert verified(new_secret, after)["entity"]["id"] == "C000000000002"
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after.body, after.headers)
    assert new_secret != old_secret


@pytest.mark.django_db
def test_re_enabling_clears_the_disabled_state_and_resumes_with_new_events(
    receiver, django_capture_on_commit_callbacks
):
    # given
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    webhook_endpoint_disable(endpoint=endpoint, reason="Every delivery failed for 5 days.")

    # when
    webhook_endpoint_enable(endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()

    # then
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since) == (
        True,
        None,
        "",
        None,
    )
    assert len(receiver.requests) == 1
