"""A worker is killed (SIGKILL) while a delivery is in flight to a slow receiver: a new worker and the sweeper's
reclaim of the delivery stuck in "sending" get every event delivered, at least once, with the same webhook-id."""

import signal
import time
from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from django.db import transaction

from config.celery_app import app as celery_app
from tests.faults.workers import worker_start, worker_stop
from tests.webhooks.helpers import REDIS_HOST, REDIS_PORT, celery_app_on_own_queue, emit_customer_created, redis_is_up
from webhooks.models import WebhookDelivery
from webhooks.services.deliveries import webhook_deliveries_sweep
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A Redis database of its own: other tests and runs use database 0.
BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/5"
WAIT = 12  # seconds; a worker process starts in 2 to 4 s on a loaded machine


@pytest.fixture
def worker_app() -> Iterator[Celery]:
    """The project's Celery app publishing to the test's own queue on BROKER_URL; the queue is deleted afterwards."""
    if not redis_is_up():
        pytest.skip(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: start it (.ci/run does).")
    with celery_app_on_own_queue(celery_app, broker_url=BROKER_URL, prefix="faults-test") as app:
        yield app


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_delivery_leaves_nothing_undelivered(on_postgres, worker_app, receiver, settings):
    # given: an endpoint whose receiver holds the first request for 10 s, and a worker sending to it
    settings.WEBHOOK_STUCK_AFTER_SECONDS = 0  # the sweeper reclaims what is in "sending" now, not after 5 minutes
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    webhook_endpoint_create(url=receiver.url, event_types=["customer.created"])
    receiver.delay_seconds = 10
    queue = worker_app.conf.task_default_queue
    workers = [worker_start(broker_url=BROKER_URL, queue=queue)]
    try:
        with transaction.atomic():
            events = [emit_customer_created(customer_id=f"C00000000000{number}") for number in (1, 2)]
        assert receiver.wait_for(1, timeout=WAIT), "the first worker sent nothing"
        receiver.delay_seconds = 0
        in_flight = receiver.requests[0].headers["webhook-id"]

        # when: the worker is killed mid-delivery, a new one starts and the sweeper runs
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(WAIT)
        assert WebhookDelivery.objects.get(event__public_id=in_flight).status == WebhookDelivery.Status.SENDING
        sweep = webhook_deliveries_sweep()
        workers.append(worker_start(broker_url=BROKER_URL, queue=queue))
        delivered = wait_until(
            lambda: (
                set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.SUCCEEDED}
                and WebhookDelivery.objects.count() == len(events)
            )
        )
    finally:
        for worker in workers:
            worker_stop(worker)

    # then: the delivery in flight was reclaimed and sent again with its webhook-id, and every event arrived
    assert delivered, list(WebhookDelivery.objects.values_list("event__public_id", "status"))
    assert sweep.reclaimed == 1
    received = [request.headers["webhook-id"] for request in receiver.requests]
    assert received.count(in_flight) == 2
    assert set(received) == {event.public_id for event in events}
