"""Probes for the load balancer and the orchestrator.

    GET /healthz   liveness: the process answers; touches nothing else (a database outage must not get every
                   web process restarted)
    GET /readyz    readiness: the database, the cache and the broker each answer within a short timeout;
                   503 names the part that did not

Both are answered by HealthCheckMiddleware, first in MIDDLEWARE, before host validation and the HTTPS redirect:
a load balancer probes by the instance's address over plain HTTP. No API key, no throttle, no session, and the
body names parts, never hosts, errors or people (the error goes to the log).

A small explicit check rather than django-health-check: its Celery checks ping a live worker (the web answers
without one: the outbox catches up) and its broker checks speak only to Redis or RabbitMQ by their own settings,
not through the Celery app's connection, so the filesystem broker of `make run` would go unchecked.
"""

import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
BROKER_TIMEOUT_SECONDS = 2.0


class CheckFailed(Exception):
    pass


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def cache_check() -> None:
    # A key of its own per probe: parallel probes from other processes must not answer for this one.
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise CheckFailed("the cache did not return what was just stored")
    cache.delete(key)


def broker_check() -> None:
    with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
        if broker.transport.driver_type == "filesystem":
            # Connecting to kombu's filesystem transport checks nothing: a publish fails later if the folder is gone.
            folder = Path(broker.transport_options["data_folder_out"])
            if not (folder.is_dir() and os.access(folder, os.W_OK)):
                raise CheckFailed("the filesystem broker's folder is missing or read-only")


CHECKS: dict[str, Callable[[], None]] = {"database": database_check, "cache": cache_check, "broker": broker_check}
# What each part raises when it cannot be reached: the database through Django, Redis (cache) through redis-py,
# the broker through kombu; sockets' OSError under all three.
CHECK_ERRORS = (CheckFailed, DatabaseError, RedisError, BrokerError, OSError)


def readiness_results() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except CHECK_ERRORS:
            logger.warning("Readiness check failed: %s", name, exc_info=True)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    return results


def liveness_response() -> JsonResponse:
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readiness_response() -> JsonResponse:
    """200 when every part in HEALTH_READINESS_CHECKS answered; every part is reported either way."""
    results = readiness_results()
    is_ready = all(results.get(name) == "ok" for name in settings.HEALTH_READINESS_CHECKS)
    return JsonResponse(
        {"status": "ok" if is_ready else "unavailable", "checks": results},
        status=200 if is_ready else 503,
        headers={"Cache-Control": "no-store"},
    )


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path_info == LIVENESS_PATH:
                return liveness_response()
            if request.path_info == READINESS_PATH:
                return readiness_response()
        return self.get_response(request)
