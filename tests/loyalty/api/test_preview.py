"""POST /api/v1/points/preview: what a cart would earn, with no side effects."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase, Tier

CART = {
    "total": "120.00",
    "items": [
        {"product_id": "SKU-1", "product_name": "Shoes", "quantity": 2, "price": "50.00", "subtotal": "100.00"},
        {"product_id": "GIFTCARD", "subtotal": "20.00"},
    ],
}


@pytest.fixture
def reader(make_api_client, program):
    Program.objects.filter(pk=program.pk).update(excluded_products=["GIFTCARD"])
    http, _key = make_api_client("loyalty:read")
    http.get("/api/v1/configuration")  # records the key's last use, so that the previews below write nothing
    return http


@pytest.fixture
def silver(program):
    return Tier.objects.create(
        program=program, rank=1, code="silver", name="Silver", threshold=Decimal("1000"), earn_multiplier=Decimal("1.5")
    )


def _preview(http, body):
    return http.post("/api/v1/points/preview", data=json.dumps(body), content_type="application/json")


def _row_counts():
    return (
        Purchase.objects.count(),
        PointsEntry.objects.count(),
        LoyaltyAccount.objects.count(),
        Customer.objects.count(),
    )


def test_without_customer_the_entry_tier_applies(reader, silver):
    # when
    response = _preview(reader, CART)

    # then
    assert response.status_code == 200
    assert response.json() == {"base": 100, "bonus": 0, "points": 100, "eligible_total": 100.0, "currency": "USD"}


def test_customer_tier_multiplier_gives_the_bonus(reader, silver, customer_factory, loyalty_account_factory):
    # given
    customer = customer_factory()
    account = loyalty_account_factory(customer=customer)
    LoyaltyAccount.objects.filter(pk=account.pk).update(tier=silver)

    # when
    response = _preview(reader, {"customer": customer.public_id, **CART})

    # then
    assert response.json() == {"base": 100, "bonus": 50, "points": 150, "eligible_total": 100.0, "currency": "USD"}


def test_lines_without_subtotal_are_worth_price_times_quantity_less_discount(reader):
    # given
    cart = {"total": "95.00", "items": [{"product_id": "SKU-1", "price": "25.00", "quantity": 4, "discount": "5.00"}]}

    # when
    response = _preview(reader, cart)

    # then
    assert response.json() == {"base": 95, "bonus": 0, "points": 95, "eligible_total": 95.0, "currency": "USD"}


def test_customer_who_never_enrolled_previews_at_the_entry_tier(reader, silver, customer_factory):
    # given
    customer = customer_factory()

    # when
    response = _preview(reader, {"customer": customer.public_id, "total": "19.99"})

    # then
    assert response.json() == {"base": 19, "bonus": 0, "points": 19, "eligible_total": 19.99, "currency": "USD"}


def test_preview_writes_nothing(reader, silver, customer_factory, loyalty_account_factory):
    # given
    customer = customer_factory()
    loyalty_account_factory(customer=customer)
    before = _row_counts()

    # when
    with CaptureQueriesContext(connection) as context:
        with_customer = _preview(reader, {"customer": customer.public_id, **CART})
        without_customer = _preview(reader, CART)

    # then
    assert (with_customer.status_code, without_customer.status_code) == (200, 200)
    assert {query["sql"].split()[0].upper() for query in context.captured_queries} == {"SELECT"}
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"items": []}, "total", "This field is required."),
        ({"total": "-1.00"}, "total", "Ensure this value is greater than or equal to 0."),
        ({"total": "1.234"}, "total", "Ensure that there are no more than 2 decimal places."),
        ({"total": "ten"}, "total", "A valid number is required."),
        ({"total": "10", "items": "SKU-1"}, "items", 'Expected a list of items but got type "str".'),
        ({"total": "10", "items": [{"product_id": "SKU-1"}]}, "items.0.subtotal", "Give the subtotal, or the price."),
        ({"total": "10", "items": [{"subtotal": "1"}]}, "items.0.product_id", "This field is required."),
        (
            {"total": "10", "items": [{"product_id": "A", "subtotal": "1", "quantity": 0}]},
            "items.0.quantity",
            "Ensure this value is greater than or equal to 0.001.",
        ),
        (
            {"total": "10", "items": [{"product_id": "A", "price": "5.00", "discount": "6.00"}]},
            "items.0.discount",
            "The discount is larger than the line's price.",
        ),
        ({"total": "10", "customer": ""}, "customer", "This field may not be blank."),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(reader, body, field, message):
    # given
    before = _row_counts()

    # when
    response = _preview(reader, body)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }
    assert _row_counts() == before


def test_too_many_items_is_400(reader):
    # when
    response = _preview(reader, {"total": "1", "items": [{"product_id": "A", "subtotal": "0"}] * 501})

    # then
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["items"]


def test_body_that_is_not_json_is_400(reader):
    # when
    response = reader.post("/api/v1/points/preview", data="{total:", content_type="application/json")

    # then
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_unknown_customer_is_404_and_erased_is_410(reader, customer_factory):
    # given
    erased = customer_factory(status=Customer.Status.ERASED)

    # when
    unknown = _preview(reader, {"customer": "C000000000000", "total": "10"})
    gone = _preview(reader, {"customer": erased.public_id, "total": "10"})

    # then
    assert (unknown.status_code, unknown.json()["extra"]) == (404, {"field": "customer"})
    assert (gone.status_code, gone.json()["message"]) == (410, "Customer is deleted after PII delete request")


@pytest.mark.parametrize("scopes", [("clienteling",), ("loyalty:write",), ("privacy",)])
def test_key_without_loyalty_read_scope_is_403(make_api_client, scopes, db):
    # given
    http, _key = make_api_client(*scopes)

    # when
    response = _preview(http, CART)

    # then
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'loyalty:read' scope."
