"""The allowed stores of an API client, edited in its admin: an autocomplete of stores on the add and change pages,
saved through crm.services.api_clients (api_client_stores_set, api_client_create) and recorded in the client's
admin history with the stores it may now act for. Only superusers may change API clients."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from rest_framework.test import APIClient

from crm.models import ApiClient
from crm.roles import MARKETING, STORE_MANAGERS
from crm.services import api_clients
from crm.services.api_clients import api_client_create

pytestmark = pytest.mark.django_db

API_CLIENTS_URL = "/admin/crm/apiclient/"


@pytest.fixture
def stores(store_factory):
    return {code: store_factory(code=code, name=f"Store {code}") for code in ("NYC01", "SFO01", "BER01")}


@pytest.fixture
def stores_set_calls(monkeypatch):
    """The calls the admin makes to api_client_stores_set, which still does its work."""
    calls = []
    real = api_clients.api_client_stores_set

    def spy(**kwargs):
        calls.append(sorted(kwargs["store_codes"]))
        return real(**kwargs)

    monkeypatch.setattr("crm.admin.api_client_stores_set", spy)
    return calls


def _allowed(client: ApiClient) -> list[str]:
    return sorted(ApiClient.objects.get(pk=client.pk).allowed_stores.values_list("code", flat=True))


def _history(client: ApiClient) -> list[tuple[str, str]]:
    entries = LogEntry.objects.filter(object_id=str(client.pk)).order_by("action_time", "id")
    return [(entry.get_change_message(), entry.user.username) for entry in entries]


def _sign_up(key: str, **attribution: str) -> int:
    body = {"profile": {"lastName": "Hopper"}, **({"storeAttribution": attribution} if attribution else {})}
    response = APIClient().post(
        "/endpoint/sa/customers", data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=key
    )
    return response.status_code


def test_the_change_page_offers_the_stores_as_an_autocomplete(admin_client, stores):
    # given
    client, _key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01"])

    # when
    page = admin_client.get(f"{API_CLIENTS_URL}{client.pk}/change/")
    found = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "crm", "model_name": "apiclient", "field_name": "allowed_stores", "term": "SFO"},
    )

    # then
    assert page.status_code == 200
    field = page.context["adminform"].form.fields["allowed_stores"]
    assert type(field.widget.widget).__name__ == "AutocompleteSelectMultiple"
    assert [str(pk) for pk in page.context["adminform"].form["allowed_stores"].value()] == [str(stores["NYC01"].pk)]
    assert found.json()["results"] == [{"id": str(stores["SFO01"].pk), "text": "SFO01 Store SFO01"}]


def test_restricting_a_client_goes_through_the_service_and_is_recorded(admin_client, stores, stores_set_calls):
    # given
    client, key = api_client_create(name="pos", scopes=["clienteling"])
    url = f"{API_CLIENTS_URL}{client.pk}/change/"

    # when
    response = admin_client.post(
        url, {"scopes": ["clienteling"], "allowed_stores": [stores["SFO01"].pk, stores["NYC01"].pk]}
    )

    # then
    assert response.status_code == 302
    assert stores_set_calls == [["NYC01", "SFO01"]]
    assert _allowed(client) == ["NYC01", "SFO01"]
    assert _history(client) == [("Allowed stores: NYC01, SFO01.", "admin")]
    assert [_sign_up(key), _sign_up(key, storeId="BER01"), _sign_up(key, storeId="SFO01")] == [403, 403, 200]


def test_clearing_the_stores_lifts_the_restriction_and_is_recorded(admin_client, stores):
    # given
    client, key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01"])

    # when
    response = admin_client.post(f"{API_CLIENTS_URL}{client.pk}/change/", {"scopes": ["clienteling"]})

    # then
    assert response.status_code == 302
    assert _allowed(client) == []
    assert _history(client) == [("Allowed stores: any.", "admin")]
    assert _sign_up(key) == 200


def test_a_change_of_scopes_and_stores_records_both(admin_client, stores):
    # given
    client, _key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01"])

    # when
    admin_client.post(
        f"{API_CLIENTS_URL}{client.pk}/change/",
        {"scopes": ["scan_and_go", "clienteling"], "allowed_stores": [stores["BER01"].pk]},
    )

    # then
    assert _allowed(client) == ["BER01"]
    assert _history(client) == [("Scopes: clienteling, scan_and_go. Allowed stores: BER01.", "admin")]


def test_saving_without_a_change_keeps_the_stores_and_records_no_change(admin_client, stores, stores_set_calls):
    # given
    client, _key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01", "SFO01"])

    # when
    admin_client.post(
        f"{API_CLIENTS_URL}{client.pk}/change/",
        {"scopes": ["clienteling"], "allowed_stores": [stores["NYC01"].pk, stores["SFO01"].pk]},
    )

    # then
    assert stores_set_calls == [["NYC01", "SFO01"]]
    assert _allowed(client) == ["NYC01", "SFO01"]
    assert _history(client) == [("No fields changed.", "admin")]


def test_a_client_added_with_stores_is_restricted_to_them(admin_client, stores):
    # when
    response = admin_client.post(
        f"{API_CLIENTS_URL}add/", {"name": "pos", "scopes": ["clienteling"], "allowed_stores": [stores["BER01"].pk]}
    )

    # then
    assert response.status_code == 302
    client = ApiClient.objects.get()
    assert _allowed(client) == ["BER01"]
    assert _history(client) == [("Added.", "admin")]


@pytest.mark.parametrize("group_name", [STORE_MANAGERS, MARKETING])
def test_the_back_office_roles_may_not_change_a_clients_stores(role_client, stores, group_name):
    # given
    client, _key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01"])
    http = role_client(group_name)

    # when
    page = http.get(f"{API_CLIENTS_URL}{client.pk}/change/")
    post = http.post(
        f"{API_CLIENTS_URL}{client.pk}/change/", {"scopes": ["clienteling"], "allowed_stores": [stores["BER01"].pk]}
    )

    # then
    assert (page.status_code, post.status_code) == (403, 403)
    assert _allowed(client) == ["NYC01"]
    assert LogEntry.objects.count() == 0
