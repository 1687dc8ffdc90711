import uuid
from collections.abc import Iterator

import pytest
from celery import Celery
from kombu import Exchange, Queue

from config.celery_app import app as celery_app
from core.enqueue import broker_pause
from tests.webhooks.helpers import REDIS_URL, celery_app_configured, redis_is_up
from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def broker_pause_ended() -> Iterator[None]:
    """A test whose broker fails pauses publishing in this process: the next test starts without the pause."""
    yield
    broker_pause.end()


@pytest.fixture
def receiver():
    """A real HTTP receiver on 127.0.0.1 (a random port), answering 200 unless told otherwise."""
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def redis_celery_app() -> Iterator[Celery]:
    """The project's Celery app pointed at Redis, out of eager mode and on a queue of its own for one test, so that
    a worker of another test run on the same Redis cannot take its messages. Afterwards the queue is deleted with
    what is left in it (so that Redis does not collect one queue per run) and the app is as it was before."""
    if not redis_is_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: start it (.ci/run does) to run the real-worker tests.")
    name = f"webhooks-test-{uuid.uuid4().hex}"
    overrides = {
        "broker_url": REDIS_URL,
        "broker_transport_options": {},
        "task_always_eager": False,
        "task_default_queue": name,
    }
    with celery_app_configured(celery_app, **overrides) as app:
        try:
            yield app
        finally:
            with app.connection_for_write() as connection:
                queue = Queue(name, Exchange(name), routing_key=name, channel=connection.default_channel)
                queue.declare()  # makes this channel know the binding it then deletes
                queue.delete()
