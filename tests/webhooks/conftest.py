from collections.abc import Iterator

import pytest
from celery import Celery

from config.celery_app import app as celery_app
from core.enqueue import broker_pause
from tests.webhooks.helpers import REDIS_URL, celery_app_on_own_queue, redis_is_up
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
    """The project's Celery app on Redis and a queue of its own for one test (celery_app_on_own_queue)."""
    if not redis_is_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: start it (.ci/run does) to run the real-worker tests.")
    with celery_app_on_own_queue(celery_app, broker_url=REDIS_URL, prefix="webhooks-test") as app:
        yield app
