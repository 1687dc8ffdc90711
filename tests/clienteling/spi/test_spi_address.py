"""Customer Address SPI beyond the golden payloads: the webhook each write emits (and a no-op does not), the
customer's lastModifiedDate, Idempotency-Key on CREATE, authentication and store-restricted keys, the query budget,
and trailing slashes on the configured SPI URLs."""

import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import IdempotencyRecord
from crm.models import Address, ApiClient
from tests.clienteling.spi.test_spi_address_golden import database_state
from webhooks.models import WebhookEvent

ADDRESSES = "/endpoint/sa/customer/address"
CUSTOMERS = "/endpoint/sa/customers"
SHIPPING = {"addressLine1": "12 Harbour Road", "city": "Peoria", "postalCode": "61602", "countryCode": "US"}


def _send(http, method, path, body=None, **headers):
    if body is None:
        return getattr(http, method)(path, **headers)
    return getattr(http, method)(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def customer_id(pos_client):
    with time_machine.travel("2026-11-01T09:00:00+00:00", tick=False):
        response = _send(
            pos_client,
            "post",
            CUSTOMERS,
            {
                "profile": {
                    "firstName": "Ada",
                    "email": "ada@example.com",
                    "address": {"addressLine1": "1 Main St", "city": "Springfield", "countryCode": "US"},
                },
                "consents": {"loyaltySignUp": True},
            },
        )
    assert response.status_code == 200
    return response.json()["customer"]["profile"]["customerId"]


def _updates():
    """The changed_fields of every customer.updated event, oldest first."""
    events = WebhookEvent.objects.filter(type="customer.updated").order_by("pk")
    return [event.envelope()["data"]["changed_fields"] for event in events]


def test_each_write_emits_customer_updated_and_moves_last_modified(pos_client, customer_id):
    # given
    profile_address_id = Address.objects.get().public_id

    # when
    with time_machine.travel("2026-11-02T09:00:00+00:00", tick=False):
        created = _send(pos_client, "post", ADDRESSES, {"customerId": customer_id, "address": SHIPPING})
    new_id = created.json()["customer"]["addressList"][1]["addressId"]
    updated = _send(
        pos_client,
        "put",
        ADDRESSES,
        {"customerId": customer_id, "address": {"addressId": profile_address_id, "city": "Urbana"}},
    )
    deleted = _send(pos_client, "delete", f"{ADDRESSES}?customerId={customer_id}&addressId={new_id}")

    # then
    assert [created.status_code, updated.status_code, deleted.status_code] == [200, 200, 200]
    assert created.json()["customer"]["profile"]["lastModifiedDate"] == 1793610000000  # 2026-11-02T09:00Z
    assert _updates() == [["addresses"], ["addresses", "profile_address"], ["addresses"]]


def test_a_write_that_changes_nothing_emits_nothing(pos_client, customer_id):
    # given
    address_id = Address.objects.get().public_id

    # when
    again = _send(
        pos_client,
        "post",
        ADDRESSES,
        {
            "customerId": customer_id,
            "address": {"addressLine1": " 1 main st ", "city": "SPRINGFIELD", "countryCode": "us"},
        },
    )
    same = _send(
        pos_client,
        "put",
        ADDRESSES,
        {"customerId": customer_id, "address": {"addressId": address_id, "city": "Springfield"}},
    )

    # then
    assert [again.status_code, same.status_code] == [200, 200]
    assert [entry["addressId"] for entry in again.json()["customer"]["addressList"]] == [address_id]
    assert Address.objects.count() == 1
    assert _updates() == []


def test_the_same_idempotency_key_and_body_adds_one_address_and_replays_the_first_response(pos_client, customer_id):
    # given
    body = {"customerId": customer_id, "address": SHIPPING}

    # when
    first = _send(pos_client, "post", ADDRESSES, body, HTTP_IDEMPOTENCY_KEY="till-7-0042")
    Address.objects.filter(address_line1="12 Harbour Road").delete()  # the replay must not look at the database
    second = _send(pos_client, "post", ADDRESSES, body, HTTP_IDEMPOTENCY_KEY="till-7-0042")

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_409_and_writes_nothing(pos_client, customer_id):
    # given
    _send(pos_client, "post", ADDRESSES, {"customerId": customer_id, "address": SHIPPING}, HTTP_IDEMPOTENCY_KEY="k-1")
    before = database_state()

    # when
    response = _send(
        pos_client,
        "post",
        ADDRESSES,
        {"customerId": customer_id, "address": {**SHIPPING, "city": "Pekin"}},
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    # then
    assert response.status_code == 409
    assert response.json()["errorCode"] == "IDEMPOTENCY_KEY_REUSED"
    assert database_state() == before


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_no_key_is_401_with_an_empty_body(client, method):
    response = _send(client, method, f"{ADDRESSES}?customerId=C1&addressId=A1", None if method == "get" else {})

    assert response.status_code == 401
    assert response.content == b""


def test_a_key_without_the_clienteling_scope_is_403_and_writes_nothing(make_api_client, pos_client, customer_id):
    # given
    scan_and_go, _key = make_api_client("scan_and_go")
    before = database_state()

    # when
    response = _send(scan_and_go, "post", ADDRESSES, {"customerId": customer_id, "address": SHIPPING})

    # then
    assert response.status_code == 403
    assert response.json()["errorCode"] == "FORBIDDEN"
    assert database_state() == before


def test_a_store_restricted_key_naming_another_store_is_403_and_writes_nothing(
    make_api_client, store_factory, customer_id
):
    # given
    restricted, _key = make_api_client("clienteling")
    ApiClient.objects.order_by("-pk").first().allowed_stores.add(store_factory(code="NYC01"))
    before = database_state()
    body = {"customerId": customer_id, "address": SHIPPING}

    # when
    refused = _send(restricted, "post", ADDRESSES, {**body, "storeAttribution": {"storeId": "SFO01"}})
    after_refusal = database_state()
    own_store = _send(restricted, "post", ADDRESSES, {**body, "storeAttribution": {"storeId": "NYC01"}})
    no_store = _send(
        restricted,
        "put",
        ADDRESSES,
        {
            "customerId": customer_id,
            "address": {"addressId": Address.objects.get(city="Peoria").public_id, "city": "Pekin"},
        },
    )

    # then
    assert refused.status_code == 403
    assert refused.json() == {
        "errorCode": "STORE_NOT_ALLOWED",
        "errorMessage": "storeAttribution.storeId: This API key may not act for store SFO01.",
    }
    assert after_refusal == before
    assert (own_store.status_code, no_store.status_code) == (200, 200)


def test_get_addresses_runs_the_queries_of_get_customer(pos_client, customer_id):
    # given
    for number in range(10):
        address = {**SHIPPING, "addressLine2": f"Unit {number}"}
        _send(pos_client, "post", ADDRESSES, {"customerId": customer_id, "address": address})
    with CaptureQueriesContext(connection) as get_customer:
        pos_client.get(f"{CUSTOMERS}/{customer_id}")

    # when
    with CaptureQueriesContext(connection) as get_addresses:
        response = pos_client.get(f"{ADDRESSES}?customerId={customer_id}")

    # then: the same fixed number (tests/clienteling/spi/test_spi_query_budget.py), whatever the addresses
    assert len(response.json()["customer"]["addressList"]) == 11
    assert len(get_addresses.captured_queries) == len(get_customer.captured_queries) <= 6


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", f"{CUSTOMERS}/", {"profile": {"firstName": "Grace"}}),
        ("get", f"{CUSTOMERS}/?firstName=Ada", None),
        ("put", f"{CUSTOMERS}/", {"profile": {"customerId": "{customer_id}", "lastName": "King"}}),
        ("get", f"{CUSTOMERS}/{{customer_id}}/", None),
        ("get", f"{ADDRESSES}/?customerId={{customer_id}}", None),
    ],
)
def test_a_trailing_slash_on_a_configured_url_answers_as_without_it(pos_client, customer_id, method, path, body):
    # given
    path = path.replace("{customer_id}", customer_id)
    body = json.loads(json.dumps(body).replace("{customer_id}", customer_id)) if body else None

    # when
    response = _send(pos_client, method, path, body)

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    without_slash = _send(pos_client, method, path.replace("/?", "?").rstrip("/"), body)
    assert without_slash.status_code == 200
    if method == "get":
        assert response.json() == without_slash.json()


def test_an_unknown_path_under_the_spi_is_its_json_404(pos_client):
    response = pos_client.get("/endpoint/sa/customer/addresses")

    assert response.status_code == 404
    assert response.json() == {"errorCode": "NOT_FOUND", "errorMessage": "Not found."}


def test_an_address_id_in_profile_address_is_not_read_the_edit_is_appended_as_in_vendor_scenario_3(
    pos_client, customer_id
):
    # given
    old = Address.objects.get()

    # when
    response = _send(
        pos_client,
        "put",
        CUSTOMERS,
        {
            "profile": {
                "customerId": customer_id,
                "address": {"addressId": old.public_id, "addressLine1": "500 Oak Ave"},
            }
        },
    )

    # then
    body = response.json()["customer"]
    assert [entry["addressLine1"] for entry in body["addressList"]] == ["1 Main St", "500 Oak Ave"]
    assert (
        body["profile"]["address"]["addressLine1"] == body["loyaltyProfile"]["address"]["addressLine1"] == "500 Oak Ave"
    )
    assert Address.objects.get(pk=old.pk).address_line1 == "1 Main St"


def test_update_customer_changing_the_profile_address_in_place_says_so_in_the_webhook(pos_client, customer_id):
    # given
    address_id = Address.objects.get().public_id

    # when
    response = _send(
        pos_client,
        "put",
        CUSTOMERS,
        {"profile": {"customerId": customer_id}, "addressList": [{"addressId": address_id, "city": "Urbana"}]},
    )

    # then
    assert response.json()["customer"]["loyaltyProfile"]["address"]["city"] == "Urbana"
    assert _updates() == [["addresses", "profile_address"]]


def test_address_country_different_from_country_code_is_400_and_writes_nothing(pos_client, customer_id):
    # given
    before = database_state()

    # when
    response = _send(
        pos_client,
        "post",
        ADDRESSES,
        {"customerId": customer_id, "address": {**SHIPPING, "countryCode": "US", "country": "CA"}},
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "VALIDATION_ERROR",
        "errorMessage": "address.country: Differs from countryCode; send one of them.",
    }
    assert database_state() == before
