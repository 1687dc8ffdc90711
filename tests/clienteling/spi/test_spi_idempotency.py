"""CREATE_CUSTOMER with an Idempotency-Key: a till that lost the response retries with the same key and gets the
customer it made instead of a second one or a 409; errors keep the SPI shape {"errorCode", "errorMessage"}."""

import json

import pytest
from django.db import OperationalError

import clienteling.spi.views as spi_views
import core.idempotency as idempotency
from core.models import IdempotencyRecord
from crm.models import Address, Associate, ConsentChange, Consents, Customer, Store
from loyalty.models import LoyaltyAccount

pytestmark = pytest.mark.django_db

CUSTOMERS = "/endpoint/sa/customers"
WRITTEN_MODELS = (Customer, Address, Consents, ConsentChange, Store, Associate, LoyaltyAccount, IdempotencyRecord)
SIGN_UP = {
    "profile": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
    "consents": {"loyaltySignUp": True},
    "storeAttribution": {"storeId": "S1", "associateId": "A1"},
}


def row_counts():
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def create(http, body=SIGN_UP, **headers):
    return http.post(CUSTOMERS, data=json.dumps(body), content_type="application/json", **headers)


def test_the_same_key_and_body_answers_the_first_response_and_creates_nothing(pos_client, deterministic_ids):
    # given
    first = create(pos_client, HTTP_IDEMPOTENCY_KEY="till-7-0042")
    before = row_counts()

    # when
    again = create(pos_client, HTTP_IDEMPOTENCY_KEY="till-7-0042")

    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert first.json()["customer"]["profile"]["customerId"] == "C000000000001"
    assert (first.get("Idempotent-Replayed"), again["Idempotent-Replayed"]) == (None, "true")
    assert row_counts() == before
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.state, record.response_status, record.response_body) == (
        "till-7-0042",
        "completed",
        200,
        first.json(),
    )


def test_the_same_key_with_another_body_is_409_in_the_spi_shape_and_writes_nothing(pos_client):
    # given
    create(pos_client, HTTP_IDEMPOTENCY_KEY="till-7-0042")
    before = row_counts()
    other = {**SIGN_UP, "profile": {**SIGN_UP["profile"], "email": "grace@example.com"}}

    # when
    response = create(pos_client, other, HTTP_IDEMPOTENCY_KEY="till-7-0042")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "errorCode": "IDEMPOTENCY_KEY_REUSED",
        "errorMessage": "Idempotency-Key: This idempotency key was already used for a different request.",
    }
    assert row_counts() == before


def test_an_invalid_key_is_400_in_the_spi_shape_and_writes_nothing(pos_client):
    # given
    before = row_counts()

    # when
    response = create(pos_client, HTTP_IDEMPOTENCY_KEY="k" * 256)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "IDEMPOTENCY_KEY_INVALID",
        "errorMessage": "Idempotency-Key: use 1 to 255 printable characters.",
    }
    assert row_counts() == before


def test_an_invalid_key_names_the_header_once_in_another_language(pos_client):
    # when
    response = create(pos_client, HTTP_IDEMPOTENCY_KEY=" ", HTTP_ACCEPT_LANGUAGE="fr")

    # then
    assert (response.status_code, response.json()) == (
        400,
        {
            "errorCode": "IDEMPOTENCY_KEY_INVALID",
            "errorMessage": "Idempotency-Key\u00a0: utilisez de 1 à 255 caractères imprimables.",
        },
    )
    assert Customer.objects.count() == 0


def test_keys_of_different_api_clients_do_not_collide(pos_client, make_api_client):
    # given
    other_till, _key = make_api_client("clienteling")
    create(pos_client, HTTP_IDEMPOTENCY_KEY="k-1")
    other = {**SIGN_UP, "profile": {**SIGN_UP["profile"], "email": "grace@example.com"}}

    # when
    response = create(other_till, other, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert sorted(Customer.objects.values_list("email", flat=True)) == ["ada@example.com", "grace@example.com"]


def test_a_refused_create_keeps_no_key_so_that_its_retry_runs(pos_client, customer_factory, deterministic_ids):
    # given: the email is taken, then freed
    taken = customer_factory(email="ada@example.com", public_id="C000000000042")
    refused = create(pos_client, HTTP_IDEMPOTENCY_KEY="k-1")
    Customer.objects.filter(pk=taken.pk).update(email="ada.old@example.com")

    # when
    retried = create(pos_client, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert refused.status_code == 409
    assert refused.json() == {
        "errorCode": "EMAIL_ALREADY_IN_USE",
        "errorMessage": "profile.email: This email address is already used by another customer.",
        "customerId": "C000000000042",
    }
    assert (retried.status_code, retried.json()["customer"]["profile"]["customerId"]) == (200, "C000000000001")
    assert "Idempotent-Replayed" not in retried


def test_a_retry_without_a_key_of_a_create_that_committed_names_the_customer_it_made(pos_client):
    # given
    first = create(pos_client)
    before = row_counts()

    # when
    retry = create(pos_client)

    # then
    assert retry.status_code == 409
    assert retry.json() == {
        "errorCode": "EMAIL_ALREADY_IN_USE",
        "errorMessage": "profile.email: This email address is already used by another customer.",
        "customerId": first.json()["customer"]["profile"]["customerId"],
    }
    assert row_counts() == before


def test_a_create_whose_database_fails_mid_work_writes_nothing_and_its_retry_runs(pos_client, monkeypatch):
    # given: the customer is written, then the database goes away (and refuses the release of the key too)
    customer_sign_up = spi_views.customer_sign_up

    def sign_up_then_database_gone(**arguments):
        customer_sign_up(**arguments)
        raise OperationalError("server closed the connection unexpectedly")

    def database_gone(**_arguments):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(spi_views, "customer_sign_up", sign_up_then_database_gone)
    monkeypatch.setattr(idempotency, "idempotency_record_release", database_gone)
    before = row_counts()
    with pytest.raises(OperationalError):
        create(pos_client, HTTP_IDEMPOTENCY_KEY="k-1")
    after_failure = row_counts()
    monkeypatch.setattr(spi_views, "customer_sign_up", customer_sign_up)

    # when
    retry = create(pos_client, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert after_failure == before
    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry
    assert list(Customer.objects.values_list("email", flat=True)) == ["ada@example.com"]
    assert list(IdempotencyRecord.objects.values_list("state", flat=True)) == ["completed"]
