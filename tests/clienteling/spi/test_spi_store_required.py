"""CREATE_CUSTOMER by a key restricted to some stores must name one in storeAttribution.storeId: without one it is
403 STORE_REQUIRED and nothing is written. An unrestricted key may leave it out, and UPDATE_CUSTOMER, which
attributes a change to a store only when given one, does not require it."""

import json

import pytest

from crm.models import ApiClient, ConsentChange, Customer, Store
from loyalty.models import LoyaltyAccount
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

CUSTOMERS = "/endpoint/sa/customers"
SIGN_UP = {"profile": {"firstName": "Ada", "lastName": "Lovelace"}, "consents": {"loyaltySignUp": True}}


@pytest.fixture
def restricted(make_api_client, store_factory):
    """A clienteling client whose key may act for store NYC01 only."""
    http, _key = make_api_client("clienteling")
    ApiClient.objects.get().allowed_stores.add(store_factory(code="NYC01"))
    return http


def _post(http, body, **headers):
    return http.post(CUSTOMERS, data=json.dumps(body), content_type="application/json", **headers)


def _written():
    return (
        Customer.objects.count(),
        LoyaltyAccount.objects.count(),
        ConsentChange.objects.count(),
        sorted(Store.objects.values_list("code", flat=True)),
        WebhookEvent.objects.count(),
    )


@pytest.mark.parametrize(
    "attribution",
    [None, {}, {"associateId": "A042"}, {"storeId": ""}, {"storeId": None, "associateId": "A042"}],
)
@pytest.mark.parametrize("wrapped", [False, True])
def test_a_restricted_key_naming_no_store_is_403_and_writes_nothing(restricted, attribution, wrapped):
    # given
    body = SIGN_UP if attribution is None else {**SIGN_UP, "storeAttribution": attribution}
    before = _written()

    # when
    response = _post(restricted, {"customer": body} if wrapped else body)

    # then
    assert response.status_code == 403
    assert response.json() == {
        "errorCode": "STORE_REQUIRED",
        "errorMessage": "storeAttribution.storeId: Required: this API key may act only for some stores.",
    }
    assert _written() == before


def test_a_restricted_key_naming_its_store_signs_the_customer_up_there(restricted):
    # when
    response = _post(restricted, {**SIGN_UP, "storeAttribution": {"storeId": "NYC01", "associateId": "A042"}})

    # then
    assert response.status_code == 200
    customer = Customer.objects.get()
    assert (customer.created_store.code, customer.created_associate.code) == ("NYC01", "A042")


def test_an_unrestricted_key_may_name_no_store(pos_client):
    # when
    response = _post(pos_client, SIGN_UP)

    # then
    assert response.status_code == 200
    assert Customer.objects.get().created_store is None
    assert Store.objects.count() == 0


def test_the_refusal_speaks_the_requests_language(restricted):
    # when
    response = _post(restricted, SIGN_UP, HTTP_ACCEPT_LANGUAGE="de")

    # then
    assert response.json() == {
        "errorCode": "STORE_REQUIRED",
        "errorMessage": "storeAttribution.storeId: Erforderlich: Dieser API-Schlüssel darf nur für bestimmte "
        "Filialen handeln.",
    }


def test_an_update_by_a_restricted_key_may_name_no_store(restricted):
    # given
    created = _post(restricted, {**SIGN_UP, "storeAttribution": {"storeId": "NYC01"}}).json()["customer"]
    customer_id = created["profile"]["customerId"]

    # when
    body = {"profile": {"customerId": customer_id}, "consents": {"smsSignUp": True}}
    response = restricted.put(CUSTOMERS, data=json.dumps(body), content_type="application/json")

    # then
    assert response.status_code == 200
    assert ConsentChange.objects.filter(consent="sms_sign_up").get().store is None
