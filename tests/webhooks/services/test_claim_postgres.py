"""Two workers taking the same delivery at the same moment: the compare-and-set claim lets one of them send."""

import threading

import pytest
from django.db import connection

from tests.webhooks.helpers import lost_delivery
from webhooks.models import WebhookDelivery, WebhookDeliveryAttempt
from webhooks.services.deliveries import webhook_delivery_attempt
from webhooks.services.endpoints import webhook_endpoint_create


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_delivery_send_it_once(on_postgres, receiver):
    # given: a slow receiver, so the first send is still in flight when the second worker looks
    receiver.delay_seconds = 0.2
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    delivery = lost_delivery(endpoint, entity_id="C000000000001")
    start = threading.Barrier(2)
    results: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            outcome = webhook_delivery_attempt(delivery_pk=delivery.pk)
            results.append("sent" if outcome else "skipped")
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # then
    assert sorted(results) == ["sent", "skipped"]
    assert len(receiver.requests) == 1
    assert WebhookDeliveryAttempt.objects.count() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (WebhookDelivery.Status.SUCCEEDED, 1)
