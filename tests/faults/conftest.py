"""The fault suite reuses the webhook tests' real components: an HTTP receiver on 127.0.0.1, the project's Celery app
on Redis (a queue of its own per test), and the end of the publish pause a broker failure starts."""

from tests.webhooks.conftest import broker_pause_ended, receiver, redis_celery_app

__all__ = ["broker_pause_ended", "receiver", "redis_celery_app"]
