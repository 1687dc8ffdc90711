import base64
import json

import pytest
from rest_framework.test import APIClient

from crm.models import ApiClient, Customer

SIGN_UP = {"profile": {"firstName": "Ada", "lastName": "Lovelace"}}


def _post(http: APIClient, path: str = "/endpoint/sa/customers"):
    return http.post(path, data=json.dumps(SIGN_UP), content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization", [None, "Bearer rk_wrong", "Bearer ", "Basic !!!", "Basic é", "Basic 8J+Ukw==", "Token abc"]
)
def test_missing_or_wrong_key_is_401_with_empty_body_and_writes_nothing(authorization):
    # given
    http = APIClient()
    if authorization:
        http.credentials(HTTP_AUTHORIZATION=authorization)

    # when
    response = _post(http)

    # then
    assert response.status_code == 401
    assert response.content == b""
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_wrong_key_in_query_or_header_is_401():
    # when
    by_query = APIClient().get("/endpoint/sa/customers/C1?api_key=rk_wrong")
    by_header = APIClient().get("/endpoint/sa/customers/C1", HTTP_X_API_KEY="rk_wrong")

    # then
    assert (by_query.status_code, by_query.content) == (401, b"")
    assert (by_header.status_code, by_header.content) == (401, b"")


@pytest.mark.parametrize(
    "scopes",
    [("scan_and_go",), ("loyalty:read", "loyalty:write"), ("privacy",)],
    ids=["scan_and_go", "loyalty", "privacy"],
)
def test_key_without_clienteling_scope_is_403_and_writes_nothing(make_api_client, scopes):
    # given
    http, _key = make_api_client(*scopes)

    # when
    create = _post(http)
    search = http.get("/endpoint/sa/customers?lastName=Love")
    get = http.get("/endpoint/sa/customers/C000000000001")

    # then
    expected = {"errorCode": "FORBIDDEN", "errorMessage": "This API key lacks the 'clienteling' scope."}
    for response in (create, search, get):
        assert response.status_code == 403
        assert response.json() == expected
    assert Customer.objects.count() == 0


def test_deactivated_key_is_401(make_api_client):
    # given
    http, _key = make_api_client("clienteling")
    ApiClient.objects.update(is_active=False)

    # when
    response = _post(http)

    # then
    assert (response.status_code, response.content) == (401, b"")


@pytest.mark.parametrize("transport", ["bearer", "x-api-key", "query", "basic"])
def test_key_is_accepted_in_every_documented_place(make_api_client, transport):
    # given
    _http, key = make_api_client("clienteling")
    http = APIClient()
    path = "/endpoint/sa/customers"
    if transport == "bearer":
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    elif transport == "x-api-key":
        http.credentials(HTTP_X_API_KEY=key)
    elif transport == "basic":
        http.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"pos:{key}".encode()).decode())
    else:
        path += f"?api_key={key}"

    # when
    response = _post(http, path)

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["profile"]["lastName"] == "Lovelace"
    assert Customer.objects.count() == 1


def test_use_of_a_key_is_recorded(make_api_client):
    # given
    http, _key = make_api_client("clienteling")

    # when
    http.get("/endpoint/sa/customers?lastName=x")

    # then
    assert ApiClient.objects.get().last_used_at is not None


def test_key_restricted_to_stores_cannot_act_for_another_store(make_api_client, store_factory):
    # given
    http, _key = make_api_client("clienteling")
    ApiClient.objects.get().allowed_stores.add(store_factory(code="NYC01"))
    body = {"profile": {"lastName": "Hopper"}, "storeAttribution": {"storeId": "SFO01"}}

    # when
    refused = http.post("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")
    body["storeAttribution"]["storeId"] = "NYC01"
    accepted = http.post("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")

    # then
    assert refused.status_code == 403
    assert refused.json() == {
        "errorCode": "STORE_NOT_ALLOWED",
        "errorMessage": "storeAttribution.storeId: This API key may not act for store SFO01.",
    }
    assert accepted.status_code == 200
    assert Customer.objects.count() == 1
