"""crm.services.api_clients: restricting an API client to some stores (api_client_stores_set, and at creation),
refusing store codes no store has, and what the restriction does to its key from the next request on."""

import json

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from core.exceptions import ApplicationError
from crm.models import ApiClient, Customer, Store
from crm.services.api_clients import api_client_create, api_client_stores_set

pytestmark = pytest.mark.django_db

SIGN_UP = {"profile": {"lastName": "Hopper"}}


@pytest.fixture
def stores(store_factory):
    return [store_factory(code=code) for code in ("NYC01", "SFO01", "BER01")]


def _allowed(client: ApiClient) -> list[str]:
    return sorted(ApiClient.objects.get(pk=client.pk).allowed_stores.values_list("code", flat=True))


def _sign_up(key: str, **attribution: str):
    body = {**SIGN_UP, "storeAttribution": attribution} if attribution else SIGN_UP
    return APIClient().post(
        "/endpoint/sa/customers", data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=key
    )


def test_setting_the_stores_restricts_the_key_from_its_next_request(stores):
    # given
    client, key = api_client_create(name="pos", scopes=["clienteling"])
    updated_at = client.updated_at
    before = [_sign_up(key).status_code, _sign_up(key, storeId="BER01").status_code]

    # when
    changed = api_client_stores_set(client=client, store_codes=["SFO01", " NYC01 ", "NYC01", ""])

    # then
    assert changed is True
    assert _allowed(client) == ["NYC01", "SFO01"]
    assert ApiClient.objects.get(pk=client.pk).updated_at > updated_at
    assert before == [200, 200]
    assert [
        _sign_up(key).status_code,
        _sign_up(key, storeId="BER01").status_code,
        _sign_up(key, storeId="NYC01").status_code,
    ] == [403, 403, 200]


def test_setting_no_stores_lifts_the_restriction(stores):
    # given
    client, key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01"])

    # when
    changed = api_client_stores_set(client=client, store_codes=[])

    # then
    assert changed is True
    assert _allowed(client) == []
    assert _sign_up(key).status_code == 200


def test_setting_the_stores_it_has_changes_nothing(stores):
    # given
    client, _key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01", "SFO01"])
    updated_at = ApiClient.objects.get(pk=client.pk).updated_at

    # when
    changed = api_client_stores_set(client=client, store_codes=["SFO01", "NYC01"])

    # then
    assert changed is False
    assert ApiClient.objects.get(pk=client.pk).updated_at == updated_at


def test_unknown_store_codes_are_refused_and_nothing_changes(stores):
    # given
    client, _key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01"])

    # when
    with pytest.raises(ApplicationError) as error:
        api_client_stores_set(client=client, store_codes=["SFO01", "nyc01", "HAM01"])

    # then
    assert (error.value.code, error.value.message, error.value.extra) == (
        "INVALID_FIELD",
        "Unknown stores: HAM01, nyc01. Add them under Stores in the admin first.",
        {"field": "stores"},
    )
    assert _allowed(client) == ["NYC01"]
    assert Store.objects.count() == 3


def test_a_client_created_with_stores_is_restricted_to_them(stores):
    # when
    client, key = api_client_create(name="pos", scopes=["clienteling"], store_codes=["BER01", "NYC01"])

    # then
    assert _allowed(client) == ["BER01", "NYC01"]
    assert [_sign_up(key).status_code, _sign_up(key, storeId="BER01").status_code] == [403, 200]
    assert Customer.objects.count() == 1


def test_a_client_with_unknown_stores_is_not_created(stores):
    # when
    with pytest.raises(ApplicationError) as error:
        api_client_create(name="pos", scopes=["clienteling"], store_codes=["NYC01", "HAM01"])

    # then
    assert error.value.message == "Unknown stores: HAM01. Add them under Stores in the admin first."
    assert (ApiClient.objects.count(), Store.objects.count()) == (0, 3)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Unbekannte Filialen: HAM01. Legen Sie sie zuerst im Admin unter „Stores“ an."),
        ("fr", "Magasins inconnus : HAM01. Ajoutez-les d’abord dans l’admin, sous « Stores »."),
        ("es", "Tiendas desconocidas: HAM01. Añádalas primero en el admin, en «Stores»."),
    ],
)
def test_the_refusal_of_unknown_stores_is_translated(stores, language, message):
    # when
    with translation.override(language), pytest.raises(ApplicationError) as error:
        api_client_create(name="pos", scopes=["clienteling"], store_codes=["HAM01"])

    # then
    assert error.value.message == message
