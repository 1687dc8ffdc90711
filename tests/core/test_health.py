"""GET /healthz (liveness) and GET /readyz (database, cache, broker) for load balancers: no API key, no throttle,
answered before host checks and the HTTPS redirect, 503 naming the part that failed, and nothing personal."""

import pytest
from celery import current_app
from django.db import OperationalError, connection
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from crm.models import ApiClient

pytestmark = pytest.mark.django_db

ALL_OK = {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


@pytest.fixture
def probe():
    """A load balancer: it knows the instance by address, sends no key and speaks plain HTTP."""
    return Client(HTTP_HOST="10.0.0.5")


@pytest.fixture
def database_down(monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.9, port 5432 failed: Connection refused")

    monkeypatch.setattr(connection, "cursor", refused)


@pytest.fixture
def cache_down(monkeypatch):
    def refused(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 10.0.0.8:6379. Connection refused.")

    monkeypatch.setattr("core.health.cache.set", refused)


@pytest.fixture
def broker_down(monkeypatch):
    # Nothing listens on port 1: the connection is refused at once.
    monkeypatch.setitem(current_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")


def test_liveness_answers_without_touching_the_database(probe, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = probe.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_liveness_answers_while_the_database_is_down(probe, database_down):
    # when
    response = probe.get("/healthz")

    # then
    assert response.status_code == 200


def test_readiness_reports_each_part(probe):
    # when
    response = probe.get("/readyz")

    # then
    assert response.status_code == 200
    assert response.json() == ALL_OK


def test_readiness_is_503_naming_the_database_when_it_is_down(probe, database_down):
    # when
    response = probe.get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "cache": "ok", "broker": "ok"},
    }


def test_readiness_is_503_naming_the_cache_when_it_is_down(probe, cache_down):
    # when
    response = probe.get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "unavailable", "broker": "ok"},
    }


def test_readiness_is_503_naming_the_broker_when_it_is_unreachable(probe, broker_down):
    # when
    response = probe.get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "broker": "unavailable"},
    }


def test_readiness_is_503_when_the_filesystem_brokers_folder_is_gone(probe, monkeypatch, tmp_path):
    # given
    options = dict(current_app.conf.broker_transport_options, data_folder_out=str(tmp_path / "gone"))
    monkeypatch.setitem(current_app.conf, "broker_transport_options", options)

    # when
    response = probe.get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unavailable"


def test_the_failure_goes_to_the_log_not_into_the_body(probe, database_down, caplog):
    # when
    response = probe.get("/readyz")

    # then
    assert b"10.0.0.9" not in response.content
    assert [(record.name, record.getMessage()) for record in caplog.records] == [
        ("core.health", "Readiness check failed: database"),
        ("django.request", "Service Unavailable: /readyz"),
    ]
    assert "10.0.0.9" in caplog.text


def test_parts_left_out_of_health_readiness_checks_are_reported_but_do_not_fail_it(probe, broker_down, settings):
    # given
    settings.HEALTH_READINESS_CHECKS = ["database", "cache"]

    # when
    response = probe.get("/readyz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "unavailable"}}


def test_probes_over_plain_http_are_not_redirected_to_https(probe, settings):
    # given
    settings.SECURE_SSL_REDIRECT = True

    # when
    responses = [probe.get("/healthz"), probe.get("/readyz")]

    # then
    assert [response.status_code for response in responses] == [200, 200]


def test_probes_pass_no_api_key_throttle(probe, settings):
    # given
    settings.API_FAILED_AUTHENTICATION_RATE = "1/min"
    settings.API_THROTTLE_RATES = {"scan_and_go": "1/min"}

    # when
    statuses = [probe.get("/readyz", HTTP_AUTHORIZATION="Bearer not-a-key").status_code for _ in range(3)]

    # then
    assert statuses == [200, 200, 200]
    assert ApiClient.objects.count() == 0
