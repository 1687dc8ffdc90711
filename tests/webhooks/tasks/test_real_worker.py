"""Real components end to end: a Celery worker consuming from Redis, and an HTTP receiver on 127.0.0.1.

The worker runs in a thread of this process (celery.contrib.testing.worker), so it shares the test database;
its queue has a name of its own, so a worker of another test run on the same Redis cannot take its messages.
"""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from standardwebhooks import Webhook

from tests.webhooks.helpers import emit_customer_created
from webhooks.models import WebhookDelivery
from webhooks.services.endpoints import webhook_endpoint_create


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_signed_event_through_redis(redis_celery_app, receiver):
    # given
    _endpoint, secret = webhook_endpoint_create(url=receiver.url, event_types=["customer.created"])
    queue = redis_celery_app.conf.task_default_queue

    with start_worker(redis_celery_app, queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        # when: the change commits; the fan-out and the delivery each go through Redis to the worker
        with transaction.atomic():
            event = emit_customer_created()
        arrived = receiver.wait_for(1, timeout=8)

    # then
    assert arrived, "no delivery reached the receiver within 8 s"
    (request,) = receiver.requests
    payload = Webhook(secret).verify(request.body, request.headers)
    assert (payload["id"], payload["type"], payload["entity"]) == (
        event.public_id,
        "customer.created",
        {"id": "C000000000001", "version": 1},
    )
    assert request.headers["webhook-id"] == event.public_id
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == (WebhookDelivery.Status.SUCCEEDED, 1)
    assert delivery.attempts.get().task_id != ""
