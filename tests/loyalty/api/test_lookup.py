"""GET /api/v1/customers/lookup?identifier=card|email|mobile|external_id&value=..."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer

ERASED = {"message": "Customer is deleted after PII delete request", "code": "CUSTOMER_ERASED", "extra": {}}


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def ada(customer_factory, loyalty_account_factory):
    customer = customer_factory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone_mobile="+12175550100",
        alternate_customer_id="ERP-0042",
    )
    account = loyalty_account_factory(customer=customer)
    return customer, account


def _lookup(http, query):
    return http.get("/api/v1/customers/lookup", query)


def _spaced(number):
    return f"{number[:4]} {number[4:8]}-{number[8:]}"


@pytest.mark.parametrize(
    ("identifier", "value"),
    [
        ("card", None),
        ("card", "spaced"),
        ("email", "  ADA@Example.com "),
        ("mobile", "(217) 555-0100"),
        ("mobile", "+1 217 555 0100"),
        ("external_id", "ERP-0042"),
    ],
)
def test_each_identifier_finds_the_customer(reader, ada, identifier, value):
    # given
    customer, account = ada
    if identifier == "card":
        value = _spaced(account.account_number) if value == "spaced" else account.account_number

    # when
    response = _lookup(reader, {"identifier": identifier, "value": value})

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["account_number"], body["state"]) == (
        customer.public_id,
        account.account_number,
        "enrolled",
    )


def test_lookup_answers_the_same_body_as_get_with_embeds(reader, ada):
    # given
    customer, _account = ada

    # when
    looked_up = _lookup(reader, {"identifier": "email", "value": "ada@example.com", "embed": "upgrade,addresses"})
    got = reader.get(f"/api/v1/customers/{customer.public_id}?embed=upgrade,addresses")

    # then
    assert looked_up.json() == got.json()
    assert {"upgrade", "addresses"} <= set(looked_up.json())


@pytest.mark.parametrize("embed", ["", " ", " , "])
def test_lookup_with_an_empty_embed_answers_no_blocks(reader, ada, embed):
    # given
    customer, _account = ada

    # when
    looked_up = _lookup(reader, {"identifier": "email", "value": "ada@example.com", "embed": embed})

    # then
    assert looked_up.status_code == 200
    assert looked_up.json() == reader.get(f"/api/v1/customers/{customer.public_id}").json()


@pytest.mark.parametrize(
    ("identifier", "value"),
    [("card", "999999999999"), ("email", "nobody@example.com"), ("mobile", "+12175559999"), ("external_id", "X")],
)
def test_no_match_is_404_naming_the_value(reader, ada, identifier, value):
    # when
    response = _lookup(reader, {"identifier": identifier, "value": value})

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": f"No customer has this {identifier}.",
        "code": "CUSTOMER_NOT_FOUND",
        "extra": {"field": "value"},
    }


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"value": "ada@example.com"}, "identifier", "This field is required."),
        ({"identifier": "phone", "value": "1"}, "identifier", '"phone" is not a valid choice.'),
        ({"identifier": "email"}, "value", "This field is required."),
        ({"identifier": "email", "value": "   "}, "value", "This field may not be blank."),
        ({"identifier": "email", "value": "a@b.c", "embed": "vouchers"}, "embed", None),
    ],
)
def test_bad_query_is_400_naming_the_parameter(reader, ada, query, field, message):
    # when
    response = _lookup(reader, query)

    # then
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_error"
    assert list(body["extra"]["fields"]) == [field]
    assert body["message"].startswith(f"{field}: ")
    if message:
        assert body["extra"]["fields"][field] == [message]


def test_mobile_that_is_not_a_phone_number_is_400(reader, ada):
    # when
    response = _lookup(reader, {"identifier": "mobile", "value": "call me"})

    # then
    assert response.status_code == 400
    assert response.json() == {"message": "Not a phone number.", "code": "INVALID_FIELD", "extra": {"field": "value"}}


def test_shared_mobile_is_409_rather_than_a_guess(reader, ada, customer_factory):
    # given
    customer_factory(phone_mobile="+12175550100")

    # when
    response = _lookup(reader, {"identifier": "mobile", "value": "217-555-0100"})

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": "Several customers have this mobile; look them up by id or card instead.",
        "code": "AMBIGUOUS_IDENTIFIER",
        "extra": {"field": "value"},
    }


def test_erased_customer_found_by_card_answers_410_and_by_email_not_at_all(reader, ada):
    # given
    customer, account = ada
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED, email="")

    # when
    by_card = _lookup(reader, {"identifier": "card", "value": account.account_number})
    by_email = _lookup(reader, {"identifier": "email", "value": "ada@example.com"})

    # then
    assert (by_card.status_code, by_card.json()) == (410, ERASED)
    assert by_email.status_code == 404


def test_customer_without_account_is_found_as_guest(reader, customer_factory):
    # given
    customer_factory(email="guest@example.com")

    # when
    response = _lookup(reader, {"identifier": "email", "value": "guest@example.com"})

    # then
    assert (response.status_code, response.json()["state"]) == (200, "guest")


@pytest.mark.parametrize("scopes", [("clienteling",), ("loyalty:write",), ("privacy",)])
def test_key_without_loyalty_read_scope_is_403(make_api_client, ada, scopes):
    # given
    http, _key = make_api_client(*scopes)

    # when
    response = _lookup(http, {"identifier": "email", "value": "ada@example.com"})

    # then
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'loyalty:read' scope."


def test_lookup_writes_nothing(reader, ada):
    # given
    reader.get("/api/v1/customers/lookup")  # records the key's last use

    # when
    with CaptureQueriesContext(connection) as context:
        _lookup(reader, {"identifier": "email", "value": "ada@example.com", "embed": "upgrade,transactions"})

    # then
    statements = [query["sql"].split()[0].upper() for query in context.captured_queries]
    assert set(statements) == {"SELECT"}
