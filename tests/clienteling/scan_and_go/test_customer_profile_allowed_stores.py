"""GET /customer-profile with a key restricted to some stores (admin: API clients > allowed stores): the key may
name only its stores in `storeId` (403 otherwise, before any lookup), and without `storeId` it answers for its
only store, or is refused (400) when it has several: leaving the store out must not get around its rules."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clienteling.scan_and_go import world

URL = "/customer-profile"


@pytest.fixture
def member(db):
    return world.shopper()


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))]


def test_a_key_restricted_to_stores_may_not_ask_for_another_store(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01")
    _customer, account = member
    http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})  # records the key's last use

    # when
    with CaptureQueriesContext(connection) as queries:
        response = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "HAM01"})

    # then
    assert response.status_code == 403
    assert response.json() == {
        "errorCode": "STORE_NOT_ALLOWED",
        "errorMessage": "storeId: This API key may not act for store HAM01.",
    }
    # Nothing was read: the key is this process's copy (crm/api_key_cache.py), and nothing about the shopper (not
    # even whether the card exists) was looked up.
    assert queries.captured_queries == []


def test_the_refusal_does_not_tell_a_known_card_from_an_unknown_one(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01")
    _customer, account = member

    # when
    known = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "HAM01"})
    unknown = http.get(URL, {"loyaltyCardNumber": "404404", "storeId": "HAM01"})

    # then
    assert (known.status_code, unknown.status_code) == (403, 403)
    assert known.json() == unknown.json()


def test_the_refusal_follows_accept_language(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01")
    _customer, account = member

    # when
    response = http.get(
        URL, {"loyaltyCardNumber": account.account_number, "storeId": "HAM01"}, HTTP_ACCEPT_LANGUAGE="de"
    )

    # then
    assert response.json()["errorMessage"] == "storeId: Dieser API-Schlüssel darf nicht für die Filiale HAM01 handeln."


def test_a_key_restricted_to_stores_gets_the_overrides_of_the_store_it_names(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01", "HAM01")
    world.store_override("BER01", unlocking_allowed=False)
    customer, account = member

    # when
    in_berlin = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})
    in_hamburg = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "HAM01"})

    # then
    assert in_berlin.json()["unlockingDevices"] == {
        "isAllowed": False,
        "message": "Scan & Go ist in dieser Filiale heute nicht verfügbar. Bitte nutzen Sie eine Kasse.",
    }
    assert in_hamburg.json()["unlockingDevices"] == {"isAllowed": True}
    assert in_hamburg.json()["customerId"] == customer.public_id


def test_store_codes_are_compared_exactly_as_in_the_admin(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01")
    _customer, account = member

    # when
    response = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "ber01"})

    # then
    assert response.status_code == 403
    assert response.json()["errorMessage"] == "storeId: This API key may not act for store ber01."


def test_a_key_restricted_to_one_store_answers_for_that_store_without_store_id(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01")
    world.store_override("BER01", self_unlocking_allowed=False)
    _customer, account = member

    # when
    smart_cart = http.get(URL, {"loyaltyCardNumber": account.account_number, "deviceType": "smart_cart"})
    station = http.get(URL, {"loyaltyCardNumber": account.account_number, "deviceType": "unlocking_station"})

    # then
    assert smart_cart.json()["unlockingDevices"] == {
        "isAllowed": False,
        "message": "Bitte entsperren Sie Ihr Gerät an der Entsperrstation.",
    }
    assert station.json()["unlockingDevices"] == {"isAllowed": True}


def test_a_key_restricted_to_several_stores_must_name_one(make_api_client, member):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01", "HAM01")
    _customer, account = member

    # when
    with CaptureQueriesContext(connection) as queries:
        response = http.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "VALIDATION_ERROR",
        "errorMessage": "storeId: Required: this API key may act only for some stores.",
    }
    assert [sql for sql in _writes(queries) if "crm_apiclient" not in sql] == []


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "storeId: Erforderlich: Dieser API-Schlüssel darf nur für bestimmte Filialen handeln."),
        ("fr", "storeId: Obligatoire : cette clé d’API ne peut agir que pour certains magasins."),
        ("es", "storeId: Obligatorio: esta clave de API solo puede actuar para algunas tiendas."),
    ],
)
def test_the_missing_store_message_follows_accept_language(make_api_client, member, language, message):
    # given
    http, key = make_api_client("scan_and_go")
    world.key_restricted_to(key, "BER01", "HAM01")
    _customer, account = member

    # when
    response = http.get(URL, {"loyaltyCardNumber": account.account_number}, HTTP_ACCEPT_LANGUAGE=language)

    # then
    assert response.json()["errorMessage"] == message


def test_an_unrestricted_key_may_name_any_store_or_none(make_api_client, member):
    # given
    http, _key = make_api_client("scan_and_go")
    world.store_override("BER01", unlocking_allowed=False)
    _customer, account = member

    # when
    in_berlin = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})
    anywhere = http.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert in_berlin.json()["unlockingDevices"]["isAllowed"] is False
    assert anywhere.json()["unlockingDevices"] == {"isAllowed": True}
