"""Who may post events: an API key with the loyalty:write scope, acting for its allowed stores only."""

import pytest

from crm.models import ApiClient
from crm.services.api_clients import api_key_hash
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import BULK, EVENTS, row_counts

pytestmark = pytest.mark.django_db
member = support.member

POINT_ADD = {"customer": "C1001", "action": "point_add", "data": {"points": 5}}
ENDPOINTS = [(EVENTS, POINT_ADD), (BULK, {"events": [POINT_ADD]})]


@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
def test_without_a_key_the_answer_is_401_and_nothing_is_written(client, member, path, body):
    # given
    member()
    before = row_counts()

    # when
    response = client.post(path, body, content_type="application/json")

    # then
    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "extra": {},
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert row_counts() == before


@pytest.mark.parametrize("authorization", ["Bearer rk_nope", "Basic Zoë", "Basic !!!"])
@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
def test_an_unknown_key_is_401(client, member, path, body, authorization):
    # given
    member()

    # when
    response = client.post(path, body, content_type="application/json", HTTP_AUTHORIZATION=authorization)

    # then
    assert (response.status_code, response.json()["message"]) == (401, "Invalid API key.")


@pytest.mark.parametrize("scopes", [("loyalty:read",), ("clienteling", "scan_and_go", "privacy")])
@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
def test_a_key_without_the_write_scope_is_403_and_nothing_is_written(make_api_client, member, scopes, path, body):
    # given
    member()
    http, _key = make_api_client(*scopes)
    before = row_counts()

    # when
    response = http.post(path, body, format="json")

    # then
    assert response.status_code == 403
    assert response.json() == {
        "message": "This API key lacks the 'loyalty:write' scope.",
        "code": "permission_denied",
        "extra": {},
    }
    assert row_counts() == before


@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
def test_a_key_with_the_write_scope_is_let_in(make_api_client, member, path, body):
    # given
    member()
    http, _key = make_api_client("loyalty:read", "loyalty:write")

    # when
    response = http.post(path, body, format="json")

    # then
    assert response.status_code == 200


def test_the_key_may_also_come_as_a_header_or_a_query_parameter(make_api_client, member, client):
    # given
    member()
    _http, key = make_api_client("loyalty:write")

    # when
    header = client.post(EVENTS, POINT_ADD, content_type="application/json", HTTP_X_API_KEY=key)
    query = client.post(f"{EVENTS}?api_key={key}", POINT_ADD, content_type="application/json")

    # then
    assert (header.status_code, query.status_code) == (200, 200)


def test_events_only_accept_post(make_api_client):
    # given
    http, _key = make_api_client("loyalty:write")

    # when
    response = http.get(EVENTS)

    # then
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


def test_a_key_restricted_to_some_stores_may_not_act_for_another(make_api_client, member, store_factory):
    # given
    member(points=50)
    http, key = make_api_client("loyalty:write")
    ApiClient.objects.get(key_hash=api_key_hash(key)).allowed_stores.add(store_factory(code="S001"))
    before = row_counts()

    # when
    allowed = http.post(
        EVENTS,
        {"customer": "C1001", "action": "checkout", "data": {"transaction_id": "T1", "total": "1", "store_id": "S001"}},
        format="json",
    )
    refused = http.post(
        EVENTS,
        {"customer": "C1001", "action": "checkout", "data": {"transaction_id": "T2", "total": "1", "store_id": "S002"}},
        format="json",
    )

    # then
    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "This API key may not act for store S002.",
        "code": "STORE_NOT_ALLOWED",
        "extra": {"field": "data.store_id"},
    }
    assert row_counts()["purchases"] == before["purchases"] + 1
