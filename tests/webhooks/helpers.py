import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import time_machine
from celery import Celery
from celery.signals import setup_logging
from django.utils import timezone
from kombu import Exchange, Queue, pools
from standardwebhooks import Webhook

from tests.webhooks.receiver import ReceivedRequest
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services.endpoints import webhook_endpoint_create
from webhooks.services.events import event_record, webhook_event_emit

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def redis_is_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def forget_broker_connections(app: Celery) -> None:
    """Drop what Celery built from the configuration of a moment ago and keeps: the connection and producer pools
    (the app's own, and kombu's process-wide registry keyed by broker URL, or the next test on the same URL gets
    "Acquire on closed pool"), and the app's AMQP helper, whose queue set a worker narrows to the queues it
    consumes: a later worker started without `queues` would listen only to a queue of a finished test."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.__dict__.pop("amqp", None)  # a cached property: rebuilt from the configuration on next use
    pools.reset()


def _leave_logging_alone(**kwargs: Any) -> None:
    """A setup_logging receiver: with one connected, a worker started in this process leaves logging as it is."""


@contextmanager
def celery_app_configured(app: Celery, **overrides: Any) -> Iterator[Celery]:
    """`app` with `overrides` in its configuration (a broker, eager mode off, ...) until the block ends, then
    exactly as it was: the configuration restored, what Celery derived from either configuration forgotten
    (forget_broker_connections), and logging as the test run set it up, although a worker ran in the block."""
    saved = {name: app.conf[name] for name in overrides}
    logging_was_set_up = type(app.log)._setup
    app.conf.update(overrides)
    forget_broker_connections(app)
    setup_logging.connect(_leave_logging_alone, weak=False)
    try:
        yield app
    finally:
        setup_logging.disconnect(_leave_logging_alone)
        type(app.log)._setup = logging_was_set_up
        app.conf.update(saved)
        forget_broker_connections(app)


CUSTOMER = {
    "customer": {
        "id": "C000000000001",
        "status": "active",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
    }
}


@contextmanager
def celery_app_on_own_queue(app: Celery, *, broker_url: str, prefix: str) -> Iterator[Celery]:
    """`app` pointed at `broker_url`, out of eager mode and on a queue of its own, so that a worker of another test
    run on the same broker cannot take its messages. Afterwards the queue is deleted with what is left in it (so that
    the broker does not collect one queue per run) and the app is as it was before."""
    name = f"{prefix}-{uuid.uuid4().hex}"
    overrides = {
        "broker_url": broker_url,
        "broker_transport_options": {},
        "task_always_eager": False,
        "task_default_queue": name,
    }
    with celery_app_configured(app, **overrides) as configured:
        try:
            yield configured
        finally:
            with configured.connection_for_write() as connection:
                queue = Queue(name, Exchange(name), routing_key=name, channel=connection.default_channel)
                queue.declare()  # makes this channel know the binding it then deletes
                queue.delete()


def verified(secret: str, request: ReceivedRequest) -> dict[str, Any]:
    """What the reference Standard Webhooks library makes of a request, at the time it was signed (tests that
    move the clock would otherwise fail its five-minute freshness check)."""
    with time_machine.travel(int(request.headers["webhook-timestamp"]), tick=False):
        return Webhook(secret).verify(request.body, request.headers)


def endpoint_create_before(moment: datetime, *, url: str, event_types: list[str]) -> tuple[WebhookEndpoint, str]:
    """An endpoint created a minute before `moment`, for tests that emit their events at a fixed moment (often in
    the past): an endpoint receives only the events that occurred after it was created."""
    with time_machine.travel(moment - timedelta(minutes=1), tick=False):
        return webhook_endpoint_create(url=url, event_types=event_types)


def emit_customer_created(*, customer_id: str = "C000000000001", version: int = 1) -> WebhookEvent:
    payload = {"customer": {**CUSTOMER["customer"], "id": customer_id}}
    return webhook_event_emit(type="customer.created", payload=payload, entity_id=customer_id, version=version)


def lost_delivery(endpoint: WebhookEndpoint, *, entity_id: str, due: datetime | None = None) -> WebhookDelivery:
    """A delivery whose task message never reached a worker: written, never queued."""
    event = event_record(
        event_type="customer.updated",
        entity_id=entity_id,
        data={"customer": {"id": entity_id}},
        entity={"id": entity_id, "version": 1},
        fanned_out_at=timezone.now(),
    )
    return WebhookDelivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=due or timezone.now())


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"
