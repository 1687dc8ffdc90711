"""Rate limits: per API key and scope (API_THROTTLE_RATES) and per client address for wrong keys
(API_FAILED_AUTHENTICATION_RATE), each answered with 429 and Retry-After in the surface's own error shape.

The test settings limit nothing; each test sets the small rate it needs. Time stands still 15 s into a minute, so
a per-minute window closes in exactly 45 s.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from config.settings.base import _throttle_rate
from crm.models import Customer

pytestmark = pytest.mark.django_db

NOW = "2026-06-24T10:15:15+00:00"
THROTTLED_MESSAGE = "Request was throttled. Expected available in 45 seconds."
CONFIGURATION = "/api/v1/configuration"


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


def _wrong_key_client(address: str = "198.51.100.7") -> APIClient:
    http = APIClient(REMOTE_ADDR=address)
    http.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    return http


def test_a_key_over_its_scope_rate_gets_429_with_retry_after_in_the_loyalty_shape(make_api_client, settings):
    # given
    settings.API_THROTTLE_RATES = {"loyalty:read": "3/min"}
    reader, _key = make_api_client("loyalty:read")

    # when
    statuses = [reader.get(CONFIGURATION).status_code for _ in range(3)]
    response = reader.get(CONFIGURATION)

    # then
    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.json() == {"message": THROTTLED_MESSAGE, "code": "throttled", "extra": {}}
    assert response["Retry-After"] == "45"
    assert response["Cache-Control"] == "no-store"


def test_the_limit_is_per_key_and_per_scope(make_api_client, settings):
    # given
    settings.API_THROTTLE_RATES = {"loyalty:read": "1/min", "scan_and_go": "1/min"}
    first, _key = make_api_client("loyalty:read", "scan_and_go")
    second, _key = make_api_client("loyalty:read")
    first.get(CONFIGURATION)

    # when
    first_again = first.get(CONFIGURATION)
    first_on_another_scope = first.get("/customer-profile", {"loyaltyCardNumber": "4000000000001"})
    second_key = second.get(CONFIGURATION)

    # then
    assert (first_again.status_code, first_on_another_scope.status_code, second_key.status_code) == (429, 404, 200)


def test_the_window_reopens_after_retry_after(make_api_client, settings, time_machine):
    # given
    settings.API_THROTTLE_RATES = {"loyalty:read": "1/min"}
    reader, _key = make_api_client("loyalty:read")
    reader.get(CONFIGURATION)
    assert reader.get(CONFIGURATION).status_code == 429

    # when
    time_machine.shift(timedelta(seconds=45))
    response = reader.get(CONFIGURATION)

    # then
    assert response.status_code == 200


def test_a_throttled_write_writes_nothing(make_api_client, settings):
    # given
    settings.API_THROTTLE_RATES = {"loyalty:write": "1/min"}
    writer, _key = make_api_client("loyalty:write")
    opt_in = {"action": "opt_in", "data": {"email": "first@example.com", "first_name": "First"}}
    assert writer.post("/api/v1/events", opt_in, format="json").status_code == 200

    # when
    second = {"action": "opt_in", "data": {"email": "second@example.com", "first_name": "Second"}}
    response = writer.post("/api/v1/events", second, format="json")

    # then
    assert response.status_code == 429
    assert list(Customer.objects.values_list("email", flat=True)) == ["first@example.com"]


def test_the_spi_answers_429_in_its_own_shape(pos_client, settings):
    # given
    settings.API_THROTTLE_RATES = {"clienteling": "2/min"}
    search = {"email": "nobody@example.com"}
    statuses = [pos_client.get("/endpoint/sa/customers", search).status_code for _ in range(2)]

    # when
    response = pos_client.get("/endpoint/sa/customers", search)

    # then
    assert statuses == [200, 200]
    assert response.status_code == 429
    assert response.json() == {"errorCode": "TOO_MANY_REQUESTS", "errorMessage": THROTTLED_MESSAGE}
    assert response["Retry-After"] == "45"


def test_scan_and_go_answers_429_in_its_own_shape(make_api_client, settings):
    # given
    settings.API_THROTTLE_RATES = {"scan_and_go": "2/min"}
    device, _key = make_api_client("scan_and_go")
    scan = {"loyaltyCardNumber": "4000000000001"}
    statuses = [device.get("/customer-profile", scan).status_code for _ in range(2)]

    # when
    response = device.get("/customer-profile", scan)

    # then
    assert statuses == [404, 404]
    assert response.status_code == 429
    assert response.json() == {"errorCode": "THROTTLED", "errorMessage": THROTTLED_MESSAGE}
    assert response["Retry-After"] == "45"


def test_600_wrong_keys_from_one_address_end_in_429s(settings):
    # given
    settings.API_FAILED_AUTHENTICATION_RATE = "60/min"
    attacker = _wrong_key_client()

    # when
    statuses = Counter(attacker.get(CONFIGURATION).status_code for _ in range(600))

    # then
    assert statuses == {401: 60, 429: 540}


def test_past_the_wrong_key_limit_a_right_key_from_that_address_is_refused_too(make_api_client, settings):
    # given
    settings.API_FAILED_AUTHENTICATION_RATE = "3/min"
    _reader, key = make_api_client("loyalty:read")
    attacker = _wrong_key_client()
    wrong = [attacker.get(CONFIGURATION).status_code for _ in range(3)]

    # when
    attacker.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    right_key = attacker.get(CONFIGURATION)

    # then
    assert wrong == [401, 401, 401]
    assert right_key.status_code == 429
    assert right_key.json() == {"message": THROTTLED_MESSAGE, "code": "throttled", "extra": {}}
    assert right_key["Retry-After"] == "45"


def test_the_spi_answers_429_for_wrong_keys_in_its_own_shape(settings):
    # given
    settings.API_FAILED_AUTHENTICATION_RATE = "1/min"
    attacker = _wrong_key_client()
    first = attacker.get("/endpoint/sa/customers", {"email": "nobody@example.com"})

    # when
    response = attacker.get("/endpoint/sa/customers", {"email": "nobody@example.com"})

    # then
    assert (first.status_code, first.content) == (401, b"")
    assert response.status_code == 429
    assert response.json() == {"errorCode": "TOO_MANY_REQUESTS", "errorMessage": THROTTLED_MESSAGE}
    assert response["Retry-After"] == "45"


def test_wrong_keys_are_counted_per_address_and_forwarded_for_is_not_trusted_by_default(make_api_client, settings):
    # given
    settings.API_FAILED_AUTHENTICATION_RATE = "2/min"
    _reader, key = make_api_client("loyalty:read")
    attacker = _wrong_key_client("198.51.100.7")
    # A client that makes up a new X-Forwarded-For for each try is still counted by its socket's address.
    wrong = [attacker.get(CONFIGURATION, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)]

    # when
    neighbour = APIClient(REMOTE_ADDR="198.51.100.8")
    neighbour.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = neighbour.get(CONFIGURATION)

    # then
    assert wrong == [401, 401, 429]
    assert response.status_code == 200


def test_behind_a_trusted_proxy_wrong_keys_are_counted_by_the_address_it_forwards(make_api_client, settings):
    # given
    settings.NUM_PROXIES = 1
    settings.API_FAILED_AUTHENTICATION_RATE = "1/min"
    _reader, key = make_api_client("loyalty:read")
    balancer = "10.0.0.2"
    attacker = _wrong_key_client(balancer)
    attacker.get(CONFIGURATION, HTTP_X_FORWARDED_FOR="made-up, 198.51.100.7")

    # when
    again = attacker.get(CONFIGURATION, HTTP_X_FORWARDED_FOR="198.51.100.7")
    other_client = APIClient(REMOTE_ADDR=balancer)
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = other_client.get(CONFIGURATION, HTTP_X_FORWARDED_FOR="198.51.100.8")

    # then
    assert again.status_code == 429
    assert response.status_code == 200


def test_requests_without_a_key_are_not_counted_as_wrong_keys(settings):
    # given
    settings.API_FAILED_AUTHENTICATION_RATE = "1/min"
    anonymous = APIClient(REMOTE_ADDR="198.51.100.7")

    # when
    statuses = [anonymous.get(CONFIGURATION).status_code for _ in range(3)]

    # then
    assert statuses == [401, 401, 401]


def test_an_unreachable_cache_lets_requests_through(make_api_client, settings, monkeypatch):
    # given
    settings.API_THROTTLE_RATES = {"loyalty:read": "1/min"}
    settings.API_FAILED_AUTHENTICATION_RATE = "1/min"
    reader, _key = make_api_client("loyalty:read")

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    for method in ("get", "add", "incr", "set"):
        monkeypatch.setattr(f"crm.throttles.cache.{method}", unreachable)

    # when
    statuses = [reader.get(CONFIGURATION).status_code for _ in range(3)]
    wrong = [_wrong_key_client().get(CONFIGURATION).status_code for _ in range(3)]

    # then
    assert statuses == [200, 200, 200]
    assert wrong == [401, 401, 401]


def test_the_default_rates_limit_every_scope():
    # given
    from config.settings import base

    # then
    assert set(base.API_THROTTLE_RATES) == {"clienteling", "scan_and_go", "loyalty:read", "loyalty:write", "privacy"}
    assert base.API_FAILED_AUTHENTICATION_RATE == "60/min"


@pytest.mark.parametrize(
    ("value", "rate"), [("600/min", "600/min"), (" 10/s ", "10/s"), ("5/hour", "5/hour"), ("off", None), ("OFF", None)]
)
def test_throttle_rates_from_the_environment_are_read_or_switched_off(value, rate):
    assert _throttle_rate(value) == rate


@pytest.mark.parametrize("value", ["", "600", "600 per minute", "ten/min", "600/week"])
def test_a_malformed_throttle_rate_fails_at_start(value):
    with pytest.raises(ImproperlyConfigured):
        _throttle_rate(value)
