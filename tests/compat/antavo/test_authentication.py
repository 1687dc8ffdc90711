"""How Antavo's clients authenticate: api_key in the query or the POST body, Escher signatures (ANTAVO-HMAC-SHA256)
made by Emarsys's own Escher library as Antavo's SDK makes them, unsigned requests only where a setting allows."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from escherauth.escherauth import Escher
from rest_framework.test import APIClient

from crm.models import ApiClient, Customer
from crm.services.api_clients import api_client_escher_secret_rotate
from tests.compat.antavo.conftest import CUSTOMER_ID, EVENTS
from tests.compat.antavo.golden import request_of

pytestmark = pytest.mark.django_db

UNAUTHORIZED = "UnauthorizedException"


def _sign(key, secret, method, path, body="", *, at=None, region="demo"):
    """The headers Antavo's SDK sends: Escher over method, path and query, host, date and the body."""
    escher = Escher(
        key,
        secret,
        f"{region}/api/antavo_request",
        {
            "algo_prefix": "ANTAVO",
            "vendor_key": "Antavo",
            "auth_header_name": "Authorization",
            "date_header_name": "Date",
            "current_time": at or datetime.now(UTC),
        },
    )
    signed = escher.sign_request(
        {
            "method": method,
            "url": path,
            "host": "testserver",
            "headers": [["Content-Type", 'application/json; charset="UTF-8"']],
            "body": body,
        }
    )
    headers = dict(signed["headers"])
    return {"HTTP_AUTHORIZATION": headers["Authorization"], "HTTP_DATE": headers["Date"]}


def _post_signed(path, body, headers):
    return APIClient().generic(
        "POST", path, body, content_type='application/json; charset="UTF-8"', HTTP_HOST="testserver", **headers
    )


@pytest.fixture
def signing_client(antavo_key):
    client = ApiClient.objects.get(name="antavo-till")
    return antavo_key, api_client_escher_secret_rotate(client=client)


def test_api_key_in_the_json_body_as_antavo_magento_module_sends_it(antavo_key, unsigned_allowed, deterministic_ids):
    # when
    response = APIClient().post(EVENTS, {**request_of("opt_in"), "api_key": antavo_key}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["id"] == CUSTOMER_ID


def test_no_key_and_a_wrong_key_are_401_in_antavo_envelope(db, unsigned_allowed):
    # when
    missing = APIClient().post(EVENTS, request_of("opt_in"), format="json")
    wrong = APIClient().post(f"{EVENTS}?api_key=rk_wrong", request_of("opt_in"), format="json")

    # then
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == UNAUTHORIZED
    assert missing["WWW-Authenticate"] == 'ANTAVO-HMAC-SHA256 realm="antavo"'
    assert (wrong.status_code, wrong.json()["error"]["message"]) == (401, "Invalid API key.")
    assert Customer.objects.count() == 0


def test_unsigned_requests_are_refused_unless_the_setting_allows_them(antavo_key):
    # when
    response = APIClient().post(f"{EVENTS}?api_key={antavo_key}", request_of("opt_in"), format="json")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "This API key has no Escher signing secret and unsigned requests are not accepted."
    )
    assert Customer.objects.count() == 0


def test_a_key_scope_is_checked(db, unsigned_allowed):
    # given
    from crm.services.api_clients import api_client_create

    _client, key = api_client_create(name="reader", scopes=["loyalty:read"])

    # when
    response = APIClient().post(f"{EVENTS}?api_key={key}", request_of("opt_in"), format="json")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "ForbiddenException"
    assert Customer.objects.count() == 0


def test_a_request_signed_as_antavo_sdk_signs_it_is_taken(signing_client, deterministic_ids):
    # given
    key, secret = signing_client
    body = json.dumps(request_of("opt_in"))

    # when
    response = _post_signed(EVENTS, body, _sign(key, secret, "POST", EVENTS, body))

    # then
    assert response.status_code == 200
    assert response.json()["id"] == CUSTOMER_ID


def test_a_signed_get_with_api_key_in_the_query_is_taken(signing_client, deterministic_ids):
    # given
    key, secret = signing_client
    body = json.dumps(request_of("opt_in"))
    _post_signed(EVENTS, body, _sign(key, secret, "POST", EVENTS, body))
    path = f"/compat/antavo/customers/{CUSTOMER_ID}?api_key={key}"

    # when
    response = APIClient().get(path, HTTP_HOST="testserver", **_sign(key, secret, "GET", path))

    # then
    assert response.status_code == 200
    assert response.json()["email"] == "sally@example.com"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("body", "Escher signature refused: The signatures do not match"),
        ("secret", "Escher signature refused: The signatures do not match"),
        ("stale", "Escher signature refused: The request date is not within the accepted time range"),
    ],
)
def test_a_wrong_or_stale_signature_is_401_and_writes_nothing(signing_client, tamper, message):
    # given
    key, secret = signing_client
    body = json.dumps(request_of("opt_in"))
    headers = _sign(
        key,
        "not-the-secret" if tamper == "secret" else secret,
        "POST",
        EVENTS,
        body,
        at=datetime.now(UTC) - timedelta(minutes=16) if tamper == "stale" else None,
    )
    sent = body.replace("Sally", "Sal") if tamper == "body" else body

    # when
    response = _post_signed(EVENTS, sent, headers)

    # then
    assert response.status_code == 401
    assert response.json()["error"] == {
        "type": UNAUTHORIZED,
        "code": 0,
        "message": message,
        "reason": "authentication_failed",
    }
    assert Customer.objects.count() == 0


def test_a_client_with_a_secret_must_sign_even_where_unsigned_requests_are_allowed(signing_client, unsigned_allowed):
    # given
    key, _secret = signing_client

    # when
    response = APIClient().post(f"{EVENTS}?api_key={key}", request_of("opt_in"), format="json")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["message"] == ("This API key must sign its requests (Escher, ANTAVO-HMAC-SHA256).")
    assert Customer.objects.count() == 0
