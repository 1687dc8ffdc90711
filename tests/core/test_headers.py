"""Headers every API surface owes its callers: Cache-Control: no-store on anything that may carry personal data
(errors included), WWW-Authenticate on each 401, and the OpenAPI documents behind API_DOCS_PUBLIC."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

BEARER_CHALLENGE = 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("scope", "path", "params", "status"),
    [
        ("clienteling", "/endpoint/sa/customers", {"email": "nobody@example.com"}, 200),
        ("clienteling", "/endpoint/sa/customers/C404", {}, 404),
        ("clienteling", "/endpoint/sa/customers", {}, 400),
        ("scan_and_go", "/customer-profile", {"loyaltyCardNumber": "4000000000001"}, 404),
        ("scan_and_go", "/customer-profile", {}, 400),
        ("loyalty:read", "/api/v1/configuration", {}, 200),
        ("loyalty:read", "/api/v1/customers/C404", {}, 404),
        ("loyalty:write", "/api/v1/configuration", {}, 403),
    ],
)
def test_every_api_response_is_marked_no_store(make_api_client, scope, path, params, status):
    # given
    http, _key = make_api_client(scope)

    # when
    response = http.get(path, params)

    # then
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/endpoint/sa/customers/C404", "/customer-profile", "/api/v1/customers/C404"])
def test_a_401_is_marked_no_store_too(path):
    # when
    response = APIClient().get(path)

    # then
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_responses_outside_the_apis_keep_their_own_caching(admin_client):
    # when
    schema = admin_client.get("/api/schema/")

    # then
    assert schema.status_code == 200
    assert "Cache-Control" not in schema


def test_the_spi_401_keeps_its_empty_body_and_names_the_scheme():
    # when
    missing = APIClient().get("/endpoint/sa/customers/C404")
    wrong = APIClient().get("/endpoint/sa/customers/C404", HTTP_AUTHORIZATION="Bearer not-a-key")

    # then
    assert (missing.status_code, missing.content, missing["WWW-Authenticate"]) == (401, b"", BEARER_CHALLENGE)
    assert (wrong.status_code, wrong.content, wrong["WWW-Authenticate"]) == (401, b"", BEARER_CHALLENGE)


def test_the_loyalty_api_401_names_the_scheme():
    # when
    response = APIClient().get("/api/v1/configuration", HTTP_X_API_KEY="not-a-key")

    # then
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid API key.", "code": "authentication_failed", "extra": {}}
    assert response["WWW-Authenticate"] == BEARER_CHALLENGE


def test_the_scan_and_go_401_keeps_its_basic_challenge():
    # when
    response = APIClient().get("/customer-profile")

    # then
    assert (response.status_code, response.content) == (401, b"")
    assert response["WWW-Authenticate"] == 'Basic realm="scan-and-go", charset="UTF-8"'


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_public_api_docs_open_to_anyone(client, settings, path):
    # given
    settings.API_DOCS_PUBLIC = True

    # when
    response = client.get(path)

    # then
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_private_api_docs_send_anyone_but_staff_to_the_admin_login(client, settings, path):
    # given
    settings.API_DOCS_PUBLIC = False
    client.force_login(User.objects.create_user(username="shopper", password="x", is_staff=False))

    # when
    response = client.get(path)

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_private_api_docs_open_to_staff_signed_in_to_the_admin(client, settings, path):
    # given
    settings.API_DOCS_PUBLIC = False
    client.force_login(User.objects.create_user(username="manager", password="x", is_staff=True))

    # when
    response = client.get(path)

    # then
    assert response.status_code == 200


def test_an_api_key_does_not_open_private_api_docs(make_api_client, settings):
    # given
    settings.API_DOCS_PUBLIC = False
    http, _key = make_api_client("clienteling", "scan_and_go", "loyalty:read", "loyalty:write", "privacy")

    # when
    response = http.get("/api/schema/")

    # then
    assert response.status_code == 302
