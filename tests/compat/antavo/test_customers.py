"""GET /compat/antavo/customers/{id} and its coupons in Antavo's shapes, and one customer and ledger behind the Antavo
adapter and /api/v1/."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm.models import Customer
from loyalty.models import Program, Voucher
from tests.compat.antavo.conftest import CUSTOMER_ID, EVENTS
from tests.compat.antavo.golden import request_of

pytestmark = pytest.mark.django_db

CUSTOMER = f"/compat/antavo/customers/{CUSTOMER_ID}"


@pytest.fixture
def silver_program(program, tier_factory):
    """The default program with a silver tier from 100 points, kept for a year; points earned expire in a year."""
    Program.objects.filter(pk=program.pk).update(code="fashion", name="Fashion Journey", currency="GBP")
    program.refresh_from_db()
    tier_factory(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("100"))
    tier_factory(program=program, rank=2, code="gold", name="Gold", threshold=Decimal("1000"))
    return program


@pytest.fixture
def sally_after_checkout(antavo, silver_program, deterministic_ids):
    """Antavo's opt_in, 20 points added, then Antavo's checkout example (100 earned, 20 burned): silver."""
    assert antavo.post(EVENTS, request_of("opt_in")).status_code == 200
    assert (
        antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 20}}).status_code == 200
    )
    assert antavo.post(EVENTS, request_of("checkout")).status_code == 200
    return Customer.objects.get(public_id="C000000000001")


def test_customer_is_antavo_customer_object_with_tiers_accounts_and_unix_times(antavo, sally_after_checkout):
    # when
    response = antavo.get(CUSTOMER)

    # then
    assert response.status_code == 200
    now = int(datetime(2026, 6, 24, 10, 15, tzinfo=UTC).timestamp())
    assert response.json() == {
        "id": CUSTOMER_ID,
        "first_name": "Sally",
        "last_name": "Thompson",
        "email": "sally@example.com",
        "mobile_phone": "",
        "gender": "",
        "birth_date": None,
        "language": "",
        "country": "",
        "currency": "GBP",
        "status": "active",
        "score": 120,
        "spendable": 100,
        "pending": 0,
        "reserved": 0,
        "spent": 20,
        "expired": 0,
        "image_url": None,
        "membership_id": ["500000000017"],
        "optin_at": now,
        "last_login_at": None,
        "updated_at": now,
        "purchase_count": 1,
        "purchase_total": 100.0,
        "purchase_last_date": "2026-06-24",
        "properties": {},
        "tiers": [
            {
                "id": "silver",
                "name": "Silver",
                "structure": {"id": "fashion", "name": "Fashion Journey"},
                "threshold": 100,
                "points": 120,
                "points_after_expiration": 0,
                "since": "2026-06-24T10:15:00+00:00",
                "expdate": "2027-06-24T10:15:00+00:00",
                "next": {"id": "gold", "name": "Gold", "points": 880},
            }
        ],
        "accounts": [
            {
                "id": "fashion",
                "name": "Fashion Journey",
                "earned": 120,
                "spent": 20,
                "pending": 0,
                "reserved": 0,
                "expired": 0,
                "spendable": 100,
                "burn_rates": [
                    {"points": 1, "amount": 0.01, "currency": "GBP", "converted_amount": 1.0, "unconverted_points": 0}
                ],
            }
        ],
    }


def test_customer_view_runs_a_fixed_number_of_queries(antavo, sally_after_checkout, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        assert antavo.get(CUSTOMER).status_code == 200


def test_an_unknown_customer_is_404_with_antavo_error(antavo, db):
    # when
    response = antavo.get("/compat/antavo/customers/nobody")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "NotFoundException",
            "code": 160212,
            "message": "Customer not found",
            "reason": "CUSTOMER_NOT_FOUND",
        }
    }


def test_a_checkout_through_antavo_lands_on_the_customer_and_ledger_api_v1_shows(
    antavo, sally_after_checkout, make_api_client
):
    # given
    v1, _key = make_api_client("loyalty:read", "loyalty:write")

    # when: the same customer through /api/v1/, by our public id
    v1_customer = v1.get(f"/api/v1/customers/{sally_after_checkout.public_id}").json()
    added = v1.post(
        "/api/v1/events",
        {"customer": sally_after_checkout.public_id, "action": "point_add", "data": {"points": 5}},
        format="json",
    )
    antavo_customer = antavo.get(CUSTOMER).json()

    # then: one ledger behind both
    assert (v1_customer["spendable"], v1_customer["spent"], v1_customer["score"]) == (100, 20, 120)
    assert v1_customer["purchase_count"] == 1
    assert added.status_code == 200
    assert (antavo_customer["spendable"], antavo_customer["score"]) == (105, 125)


def test_coupons_are_antavo_coupons_filtered_by_antavo_status_and_type(
    antavo, sally_after_checkout, coupon_definition_factory, voucher_factory
):
    # given
    welcome = coupon_definition_factory(code="welcome-10", name="Welcome_10", kind="percent", value=Decimal("10"))
    five_off = coupon_definition_factory(code="five-off", name="Five off", kind="amount", value=Decimal("5"))
    issued_at = datetime(2026, 5, 2, 12, 42, 58, tzinfo=UTC)
    welcome_voucher = voucher_factory(definition=welcome, customer=sally_after_checkout, code="COUPON-123456")
    five_voucher = voucher_factory(definition=five_off, customer=sally_after_checkout, code="FIVE-1")
    # Set up as a claim and a redemption in May would have left them.
    Voucher.objects.filter(pk=welcome_voucher.pk).update(
        status="claimed",
        issued_at=issued_at,
        claimed_at=issued_at,
        expires_at=datetime(2026, 7, 16, 21, 59, tzinfo=UTC),
    )
    Voucher.objects.filter(pk=five_voucher.pk).update(
        status="redeemed",
        issued_at=issued_at,
        redeemed_at=issued_at,
        redeemed_transaction_id="T-1",
        redemption_amount=Decimal("5.00"),
    )

    # when
    claimed = antavo.get(f"{CUSTOMER}/coupons", status="claimed")
    amounts = antavo.get(f"{CUSTOMER}/coupons", type="amount")
    bad = antavo.get(f"{CUSTOMER}/coupons", status="used")

    # then
    assert claimed.status_code == 200
    assert claimed.json() == {
        "data": [
            {
                "code": "COUPON-123456",
                "status": "claimed",
                "type": "percentage",
                "value": 10.0,
                "currency": "GBP",
                "name": "Welcome_10",
                "pool": "welcome-10",
                "created_at": "2026-05-02T12:42:58+00:00",
                "claimed_at": "2026-05-02T12:42:58+00:00",
                "redeemed_at": None,
                "expires_at": "2026-07-16T21:59:00+00:00",
            }
        ]
    }
    assert [coupon["code"] for coupon in amounts.json()["data"]] == ["FIVE-1"]
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == 'status: "used" is not a valid choice.'


def test_customers_imported_with_their_antavo_ids_are_found_when_the_source_says_import(
    antavo, settings, customer_factory, loyalty_account_factory
):
    # given: a customer brought in by the customer import, its Antavo id as external_id (source "import")
    from crm.services.external_ids import external_id_link

    settings.COMPAT_ANTAVO_CUSTOMER_ID_SOURCE = "import"
    customer = customer_factory(first_name="Sally", email="sally@example.com")
    loyalty_account_factory(customer=customer)
    external_id_link(customer=customer, source="import", external_id=CUSTOMER_ID)

    # when
    read = antavo.get(CUSTOMER)
    added = antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 5}})

    # then
    assert (read.status_code, read.json()["email"]) == (200, "sally@example.com")
    assert (added.status_code, added.json()["spendable"]) == (200, 5)
    assert list(customer.external_ids.values_list("source", flat=True)) == ["import"]
