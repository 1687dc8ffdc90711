"""The broker refuses connections while tills send checkouts: each write takes the time it takes with the broker up
(the request never waits on the broker), and once the broker is back the sweeper queues what was not published and
a real worker delivers every event to the receiver."""

import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from rest_framework.test import APIClient

from core.enqueue import broker_pause
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import post_event
from tests.webhooks.helpers import celery_app_configured, closed_port_url
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services.deliveries import webhook_deliveries_sweep
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
member = support.member

CHECKOUTS = 10
EVENT_TYPES = ["purchase.accepted", "loyalty.points_changed"]
WAIT = 12  # seconds; only reached when something is broken


def checkouts(http: APIClient, first: int) -> float:
    """Send CHECKOUTS checkouts numbered from `first`; the seconds they took, all of them answered 200."""
    started = time.perf_counter()
    for number in range(first, first + CHECKOUTS):
        response = post_event(http, "checkout", data={"transaction_id": f"T{number}", "total": "10.00"})
        assert response.status_code == 200, response.content
    return time.perf_counter() - started


def unreachable_redis_url() -> str:
    return closed_port_url().replace("http://", "redis://").replace("/hooks", "/0")


def test_writes_with_the_broker_unreachable_take_their_usual_time_and_are_delivered_once_it_is_back(
    on_postgres, make_api_client, member, redis_celery_app, receiver, settings
):
    # given: an endpoint subscribed to what a checkout emits, a member, and the broker up (no worker yet: the
    # messages wait in the test's queue)
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    _endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=EVENT_TYPES)
    member(points=0)
    http, _key = make_api_client("loyalty:write")
    checkouts(http, first=1000)  # warms up what a first request loads, with the broker up
    broker_up_seconds = checkouts(http, first=0)

    # when: the same writes while the broker refuses connections
    with celery_app_configured(
        redis_celery_app,
        broker_url=unreachable_redis_url(),
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 2},
    ):
        broker_down_seconds = checkouts(http, first=CHECKOUTS)
    assert broker_pause.is_active(), "no publish failed: the broker was not unreachable"

    # then: the writes took their usual time (twice it plus a second, room for a loaded machine; a publish that
    # waited on the broker took 12.6 s here)
    assert broker_down_seconds < 2 * broker_up_seconds + 1.0, (broker_down_seconds, broker_up_seconds)

    # and when the broker is back, the sweeper queues what was not published and a worker delivers everything
    broker_pause.end()
    expected = set(WebhookEvent.objects.filter(type__in=EVENT_TYPES).values_list("public_id", flat=True))
    assert len(expected) >= 3 * CHECKOUTS  # at least one event per checkout in each of the three rounds
    queue = redis_celery_app.conf.task_default_queue
    with start_worker(redis_celery_app, queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        webhook_deliveries_sweep()
        delivered = wait_until(lambda: {r.headers["webhook-id"] for r in receiver.requests} >= expected)
    assert delivered, f"{len(expected - {r.headers['webhook-id'] for r in receiver.requests})} events not delivered"
    statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == {WebhookDelivery.Status.SUCCEEDED}
    assert WebhookDelivery.objects.count() == len(expected)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
