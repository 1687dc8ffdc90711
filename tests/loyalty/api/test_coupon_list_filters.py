"""GET /api/v1/customers/{id}/coupons: its filters (loyalty.api.filters.CustomerVoucherFilterSet) answer what the
serializer they replaced answered, in the cases test_coupons_api.py does not pin."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.coupon_codes import code_normalise
from loyalty.models import CouponDefinition, Voucher
from loyalty.services.coupon_definitions import coupon_definition_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def sally(customer_factory, program):
    """Sally with an issued and a claimed voucher of a percent coupon offered on every channel."""
    customer = customer_factory(public_id="C1001")
    welcome = coupon_definition_create(
        program=program, code="welcome-10", name="Welcome_10", kind=CouponDefinition.Kind.PERCENT, value=Decimal(10)
    )
    for day, (code, status) in enumerate([("WELCOME-AAAA", "issued"), ("WELCOME-BBBB", "claimed")], start=1):
        Voucher.objects.create(
            definition=welcome,
            code=code,
            normalised_code=code_normalise(code),
            customer=customer,
            status=status,
            issued_at=datetime(2026, 6, day, tzinfo=UTC),
        )
    return customer


def _codes(response):
    assert response.status_code == 200
    return [coupon["code"] for coupon in response.json()["data"]]


def test_a_parameter_given_empty_filters_nothing(reader, sally):
    # when
    response = reader.get("/api/v1/customers/C1001/coupons?status=&channel=&limit=")

    # then
    assert _codes(response) == ["WELCOME-BBBB", "WELCOME-AAAA"]


def test_a_repeated_parameter_filters_by_its_last_value(reader, sally):
    # when
    response = reader.get("/api/v1/customers/C1001/coupons?status=claimed&status=issued")

    # then
    assert _codes(response) == ["WELCOME-AAAA"]


def test_every_bad_parameter_is_named_the_first_in_the_message(reader, sally):
    # when
    response = reader.get("/api/v1/customers/C1001/coupons", {"limit": 0, "channel": "app", "status": "used"})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": 'status: "used" is not a valid choice.',
        "code": "validation_error",
        "extra": {
            "fields": {
                "status": ['"used" is not a valid choice.'],
                "channel": ['"app" is not a valid choice.'],
                "limit": ["Ensure this value is greater than or equal to 1."],
            }
        },
    }


def test_a_bad_parameter_is_400_before_the_customer_is_looked_up(reader, sally):
    # when
    response = reader.get("/api/v1/customers/C9999/coupons", {"status": "100%"})

    # then
    assert response.status_code == 400
    assert response.json()["message"] == 'status: "100%" is not a valid choice.'
