"""Replay: the same snapshot, the same webhook-id, a fresh retry schedule."""

import pytest

from core.exceptions import ApplicationError
from tests.webhooks.helpers import emit_customer_created, verified
from webhooks.error_codes import WebhookErrorCode
from webhooks.models import WebhookDelivery
from webhooks.services.deliveries import webhook_delivery_replay
from webhooks.services.endpoints import webhook_endpoint_create, webhook_endpoint_disable


@pytest.mark.django_db
def test_replay_resends_the_same_snapshot_with_the_same_webhook_id(receiver, django_capture_on_commit_callbacks):
    # given
    _endpoint, secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        event = emit_customer_created()
    delivery = WebhookDelivery.objects.get()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_replay(delivery=delivery)

    # then
    first, replayed = receiver.requests
    assert replayed.headers["webhook-id"] == first.headers["webhook-id"] == event.public_id
    assert replayed.body == first.body == event.body.encode()
    assert verified(secret, replayed)["id"] == event.public_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.attempts_in_cycle) == (
        WebhookDelivery.Status.SUCCEEDED,
        2,
        1,
    )
    assert list(delivery.attempts.values_list("number", "status_code")) == [(1, 200), (2, 200)]


@pytest.mark.django_db
def test_replay_gives_a_failed_delivery_a_new_chance(receiver, django_capture_on_commit_callbacks):
    # given
    receiver.respond_with(400)
    webhook_endpoint_create(url=receiver.url, event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created()
    delivery = WebhookDelivery.objects.get()
    failed = delivery.status

    # when
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_replay(delivery=delivery)

    # then
    delivery.refresh_from_db()
    assert (failed, delivery.status, delivery.last_status_code) == (
        WebhookDelivery.Status.FAILED,
        WebhookDelivery.Status.SUCCEEDED,
        200,
    )


@pytest.mark.django_db
def test_replay_refuses_a_disabled_endpoint_and_a_delivery_being_sent(receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        emit_customer_created(customer_id="C000000000001")
        emit_customer_created(customer_id="C000000000002")
    sending, disabled = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.filter(pk=sending.pk).update(status=WebhookDelivery.Status.SENDING)

    # when
    with pytest.raises(ApplicationError) as in_progress:
        webhook_delivery_replay(delivery=sending)
    webhook_endpoint_disable(endpoint=endpoint, reason="test")
    with pytest.raises(ApplicationError) as endpoint_disabled:
        webhook_delivery_replay(delivery=disabled)

    # then
    assert (in_progress.value.code, in_progress.value.message) == (
        WebhookErrorCode.DELIVERY_IN_PROGRESS,
        f"Delivery {sending.pk} is being sent right now; try again in a minute.",
    )
    assert (endpoint_disabled.value.code, endpoint_disabled.value.message) == (
        WebhookErrorCode.ENDPOINT_DISABLED,
        f"Delivery {disabled.pk}: its endpoint is disabled; re-enable it first.",
    )
    assert len(receiver.requests) == 2
