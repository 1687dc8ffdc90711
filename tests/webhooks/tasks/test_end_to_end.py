"""Issue 6 end to end: a customer signed up, updated and rewarded over HTTP reaches a subscribed receiver as the
documented, signed events, through a real Celery worker consuming from Redis and a real HTTP receiver on
127.0.0.1, also when the worker was down at the time and the receiver fails the first attempts.

The worker runs in a thread of this process (celery.contrib.testing.worker), so it shares the test database, which
the tests commit to (transaction=True); its queue has a name of its own, so a worker of another test run on the same
Redis cannot take its messages. Beat is not running: the second test plays its part by queueing the sweeper.

SQLite takes one writer at a time (a second one waits, and gives up after the busy timeout), so the test thread
makes its changes only while the worker is idle (the first test) or stopped (the second).
"""

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_prerun
from standardwebhooks import Webhook

from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services.endpoints import webhook_endpoint_create
from webhooks.tasks import sweep_due_deliveries_task

SPI_CUSTOMERS = "/endpoint/sa/customers"
LOYALTY_EVENTS = "/api/v1/events"
EVENT_TYPES = {
    "customer.created",
    "loyalty.enrolled",
    "customer.updated",
    "loyalty.points_changed",
    "purchase.accepted",
}
SIGN_UP = {
    "profile": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "phoneMobile": "2175550100"},
    "consents": {"agreeToTC": True, "loyaltySignUp": True},
    "storeAttribution": {"storeId": "S1"},
}
WAIT_SECONDS = 20


def _worker(app: Celery):
    return start_worker(app, queues=[app.conf.task_default_queue], perform_ping_check=False, shutdown_timeout=10)


class WorkerActivity:
    """How many tasks the in-process worker is running: Celery's task signals fire in the worker's thread."""

    def __init__(self) -> None:
        self.running = 0
        self._lock = threading.Lock()

    def started(self, **_: object) -> None:
        with self._lock:
            self.running += 1

    def finished(self, **_: object) -> None:
        with self._lock:
            self.running -= 1


@pytest.fixture
def worker_activity() -> Iterator[WorkerActivity]:
    activity = WorkerActivity()
    task_prerun.connect(activity.started, weak=False)
    task_postrun.connect(activity.finished, weak=False)
    yield activity
    task_prerun.disconnect(activity.started)
    task_postrun.disconnect(activity.finished)


class FailingFirstAttemptsReceiver(Receiver):
    """Answers 503 to the first `failures` requests carrying each webhook-id, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: Counter[str] = Counter()
        self._one_at_a_time = threading.Lock()
        super().__init__()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        recording_handler = super()._handler_class()
        receiver = self

        class FailingFirstAttempts(recording_handler):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                # One request at a time, so that the status scripted here is the one this request gets.
                with receiver._one_at_a_time:
                    webhook_id = self.headers.get("webhook-id", "")
                    receiver.seen[webhook_id] += 1
                    receiver.respond_with(*([503] if receiver.seen[webhook_id] <= receiver.failures else []))
                    super().do_POST()

        return FailingFirstAttempts


@pytest.fixture
def failing_twice_receiver() -> Iterator[FailingFirstAttemptsReceiver]:
    running = FailingFirstAttemptsReceiver(failures=2).start()
    yield running
    running.stop()


@pytest.fixture
def loyalty_client(make_api_client):
    http, _key = make_api_client("loyalty:read", "loyalty:write")
    return http


def _wait_until(
    condition: Callable[[], bool], *, meanwhile: Callable[[], object] = lambda: None, pause: float = 0.05
) -> bool:
    """Poll `condition` for up to WAIT_SECONDS, calling `meanwhile` between polls; whether it came true."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            return False
        meanwhile()
        time.sleep(pause)
    return True


def _sign_up(pos_client) -> str:
    response = pos_client.post(SPI_CUSTOMERS, data=json.dumps(SIGN_UP), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["customer"]["profile"]["customerId"]


def _change_email(pos_client, customer_id: str) -> None:
    body = {"profile": {"customerId": customer_id, "email": "ada.lovelace@example.com"}}
    response = pos_client.put(SPI_CUSTOMERS, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content


def _reward(loyalty_client, customer_id: str) -> dict:
    body = {"customer": customer_id, "action": "checkout", "data": {"transaction_id": "T1", "total": "120.00"}}
    response = loyalty_client.post(LOYALTY_EVENTS, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_sign_up_update_and_reward_arrive_signed_once_each_through_a_running_worker(
    redis_celery_app, worker_activity, receiver, pos_client, loyalty_client, deterministic_ids
):
    # given: a receiver subscribed to every event type, and a worker consuming from Redis
    _endpoint, secret = webhook_endpoint_create(url=receiver.url, event_types=["*"], description="end to end")

    def delivered(count: int) -> bool:
        return _wait_until(lambda: len(receiver.requests) >= count and worker_activity.running == 0)

    with _worker(redis_celery_app):
        # when: each change commits; its fan-out and deliveries go through Redis to the worker
        customer_id = _sign_up(pos_client)
        signed_up = delivered(2)
        _change_email(pos_client, customer_id)
        updated = delivered(3)
        checkout = _reward(loyalty_client, customer_id)
        rewarded = delivered(5)
        time.sleep(0.3)  # room for a stray duplicate to show up
    # (leaving the block stops the worker once its current task has recorded its result)

    # then: five requests, one per event, each signed and carrying its event's id
    assert (signed_up, updated, rewarded) == (True, True, True), f"{len(receiver.requests)} arrived"
    assert len(receiver.requests) == 5
    events = {}
    for request in receiver.requests:
        event = Webhook(secret).verify(request.body, request.headers)
        assert request.headers["webhook-id"] == event["id"]
        events[event["type"]] = event
    assert set(events) == EVENT_TYPES
    webhook_ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert sorted(webhook_ids) == sorted(WebhookEvent.objects.values_list("public_id", flat=True))  # all distinct

    # then: the customer as signed up and as updated, newer by its entity timestamp
    assert customer_id == "C000000000001"
    created, updated_event = events["customer.created"], events["customer.updated"]
    assert (created["entity"]["id"], created["data"]["customer"]["email"]) == (customer_id, "ada@example.com")
    assert (updated_event["entity"]["id"], updated_event["data"]["customer"]["email"]) == (
        customer_id,
        "ada.lovelace@example.com",
    )
    assert updated_event["data"]["changed_fields"] == ["email"]
    assert updated_event["entity"]["updated_at"] > created["entity"]["updated_at"]
    enrolled = events["loyalty.enrolled"]["data"]
    assert (enrolled["customer_id"], enrolled["account"]["number"], enrolled["account"]["tier"]) == (
        customer_id,
        "500000000017",
        "member",
    )

    # then: the reward as the checkout answered it; the default program has one tier, so no tier change
    assert (checkout["tier"], checkout["spendable"], checkout["transaction"]["points_earned"]) == ("member", 120, 120)
    assert [(entry["kind"], entry["points"]) for entry in checkout["events"]] == [("earn", 120)]
    points = events["loyalty.points_changed"]["data"]
    assert (points["customer_id"], points["account_number"], points["kind"], points["reference"]) == (
        customer_id,
        "500000000017",
        "earn",
        "T1",
    )
    assert (points["change"], points["balance"]) == (checkout["events"][0]["points"], checkout["spendable"])
    purchase = events["purchase.accepted"]["data"]["purchase"]
    assert (purchase["transaction_id"], purchase["total"], purchase["points_earned"], purchase["state"]) == (
        "T1",
        "120.00",
        120,
        "accepted",
    )

    # then: every delivery succeeded at its first attempt
    deliveries = WebhookDelivery.objects.select_related("event")
    assert sorted((d.event.type, d.status, d.attempt_count, d.last_status_code) for d in deliveries) == [
        (event_type, "succeeded", 1, 200) for event_type in sorted(EVENT_TYPES)
    ]
    assert [delivery.attempts.count() for delivery in deliveries] == [1] * 5


@pytest.mark.django_db(transaction=True)
def test_changes_made_while_the_worker_is_down_reach_a_receiver_failing_twice_once_each(
    redis_celery_app, failing_twice_receiver, pos_client, loyalty_client, settings
):
    # given: the second attempt 0.2 s after the first (queued with a countdown), the third 0.5 s after the second
    # (too far off to queue: left to the sweeper, as 5 minutes and more are in production), a sweeper that takes
    # anything due at once, and a receiver answering 503 twice to every event
    settings.WEBHOOK_RETRY_SCHEDULE = (0, 0.2, 0.5, 1800, 7200, 18000, 36000, 36000)
    settings.WEBHOOK_MAX_COUNTDOWN_SECONDS = 0.3
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver = failing_twice_receiver
    _endpoint, secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])

    # when: the changes commit while no worker runs, then one starts, with beat's part played by queueing the
    # sweeper while waiting
    customer_id = _sign_up(pos_client)
    _change_email(pos_client, customer_id)
    _reward(loyalty_client, customer_id)
    with _worker(redis_celery_app):
        arrived = _wait_until(
            lambda: len(receiver.requests) >= 15, meanwhile=sweep_due_deliveries_task.delay, pause=0.2
        )
        time.sleep(0.3)  # room for a stray duplicate to show up

    # then: three requests per event, signed, with its id and the very same body each time
    assert arrived, f"{len(receiver.requests)} of 15 requests arrived within {WAIT_SECONDS} s"
    assert len(receiver.requests) == 15
    types_by_id: dict[str, set[str]] = {}
    bodies_by_id: dict[str, set[bytes]] = {}
    for request in receiver.requests:
        event = Webhook(secret).verify(request.body, request.headers)
        assert request.headers["webhook-id"] == event["id"]
        types_by_id.setdefault(event["id"], set()).add(event["type"])
        bodies_by_id.setdefault(event["id"], set()).add(request.body)
    assert sorted(next(iter(types)) for types in types_by_id.values()) == sorted(EVENT_TYPES)
    assert receiver.seen == dict.fromkeys(WebhookEvent.objects.values_list("public_id", flat=True), 3)
    assert [len(bodies) for bodies in bodies_by_id.values()] == [1] * 5

    # then: one delivery per event, succeeded at its third attempt after two 503s
    deliveries = WebhookDelivery.objects.select_related("event")
    assert sorted((d.event.type, d.status, d.attempt_count, d.last_status_code) for d in deliveries) == [
        (event_type, "succeeded", 3, 200) for event_type in sorted(EVENT_TYPES)
    ]
    for delivery in deliveries:
        assert list(delivery.attempts.values_list("number", "status_code")) == [(1, 503), (2, 503), (3, 200)]
