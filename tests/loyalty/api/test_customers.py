"""GET /api/v1/customers/{id}: the customer 360 view and its embed blocks."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from loyalty.models import LoyaltyAccount, Program, Tier
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_reserve_for_transaction
from loyalty.services.purchases import purchase_accept, purchase_reject
from tests.loyalty.factories import PurchaseFactory

ERASED = {"message": "Customer is deleted after PII delete request", "code": "CUSTOMER_ERASED", "extra": {}}
ALL_EMBEDS = "expiry_schedule,upgrade,renewal,transactions,addresses"
FULL_VIEW_QUERY_BUDGET = 12


def checkout(account, transaction_id, total, moment, burned=0):
    with time_machine.travel(moment, tick=False):
        return PurchaseFactory(account=account, transaction_id=transaction_id, total=total, points_burned=burned)


@pytest.fixture
def tiers(program):
    silver = Tier.objects.create(
        program=program,
        rank=1,
        code="silver",
        name="Silver",
        title="Silver member",
        threshold=Decimal("1000"),
        renewal_threshold=Decimal("800"),
        earn_multiplier=Decimal("1.5"),
    )
    gold = Tier.objects.create(
        program=program, rank=2, code="gold", name="Gold", title="Gold member", threshold=Decimal("5000")
    )
    return silver, gold


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def ada(customer_factory, address_factory, program, loyalty_account_factory):
    """Ada, enrolled on 2026-01-05 with one address, in a program whose points expire after 365 days."""
    Program.objects.filter(pk=program.pk).update(points_expiry_days=365)
    with time_machine.travel("2026-01-05T10:00:00+00:00", tick=False):
        customer = customer_factory(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            phone_mobile="+12175550100",
            birthday=date(1980, 12, 10),
            preferred_language="en-US",
            country="US",
        )
        customer.profile_address = address_factory(customer=customer, address_line1="1 Main St", position=0)
        customer.save()
        account = loyalty_account_factory(customer=customer)
    return customer, account


def silver_history(account):
    """600 and 500 spent (Silver from the second purchase on), then 100 at Silver's 1.5x while burning 200."""
    checkout(account, "T1", "600.00", "2026-01-10T10:00:00+00:00")
    checkout(account, "T2", "500.00", "2026-02-01T10:00:00+00:00")
    checkout(account, "T3", "100.00", "2026-03-01T10:00:00+00:00", burned=200)


def test_full_view_with_every_embed(reader, ada, tiers):
    # given
    customer, account = ada
    silver_history(account)

    # when
    with time_machine.travel("2026-06-01T00:00:00+00:00", tick=False):
        response = reader.get(f"/api/v1/customers/{customer.public_id}?embed={ALL_EMBEDS}")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": customer.public_id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "mobile_phone": "+12175550100",
        "birth_date": "1980-12-10",
        "language": "en-US",
        "country": "US",
        "created_at": "2026-01-05T10:00:00Z",
        "status": "active",
        "state": "enrolled",
        "account_number": account.account_number,
        "currency": "USD",
        "spendable": 1050,
        "pending": 0,
        "reserved": 0,
        "spent": 200,
        "expired": 0,
        "score": 1250,
        "owed": 0,
        "purchase_count": 3,
        "purchase_total": 1200.0,
        "tiers": [
            {
                "code": "silver",
                "name": "Silver",
                "title": "Silver member",
                "threshold": 1000,
                "since": "2026-02-01T10:00:00Z",
                "expdate": "2027-02-01T10:00:00Z",
                "points": 1250,
                "next": {"code": "gold", "name": "Gold", "threshold": 5000, "gap": 3750},
            }
        ],
        "expiry_schedule": [
            {"points": 400, "expdate": "2027-01-10"},
            {"points": 500, "expdate": "2027-02-01"},
            {"points": 150, "expdate": "2027-03-01"},
        ],
        "upgrade": {
            "based_on": "points",
            "current_value": 1250,
            "next_tier": {"code": "gold", "name": "Gold"},
            "threshold": 5000,
            "gap": 3750,
            "window_days": 365,
        },
        # On 2027-02-01 the window starts after T2's points were earned: only T3's 150 will still count.
        "renewal": {
            "tier": "silver",
            "expdate": "2027-02-01T10:00:00Z",
            "keep_threshold": 800,
            "current_value": 150,
            "gap": 650,
            "renew_confirmed": False,
        },
        "transactions": [
            {
                "transaction_id": "T3",
                "state": "accepted",
                "total": 100.0,
                "points_earned": 150,
                "points_burned": 200,
                "purchased_at": "2026-03-01T10:00:00Z",
            },
            {
                "transaction_id": "T2",
                "state": "accepted",
                "total": 500.0,
                "points_earned": 500,
                "points_burned": 0,
                "purchased_at": "2026-02-01T10:00:00Z",
            },
            {
                "transaction_id": "T1",
                "state": "accepted",
                "total": 600.0,
                "points_earned": 600,
                "points_burned": 0,
                "purchased_at": "2026-01-10T10:00:00Z",
            },
        ],
        "addresses": [
            {
                "id": customer.profile_address.public_id,
                "first_name": "",
                "last_name": "",
                "address_line1": "1 Main St",
                "address_line2": "",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "country_code": "US",
                "phone": "",
                "is_profile_address": True,
            }
        ],
    }


def test_without_embed_only_the_core_blocks_are_sent(reader, ada, tiers):
    # given
    customer, account = ada
    silver_history(account)

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}")

    # then
    body = response.json()
    assert response.status_code == 200
    assert not {"expiry_schedule", "upgrade", "renewal", "transactions", "addresses"} & set(body)
    assert (body["spendable"], body["tiers"][0]["code"]) == (1050, "silver")


def test_renewal_is_confirmed_once_enough_points_fall_in_the_window(reader, ada, tiers):
    # given
    customer, account = ada
    silver_history(account)
    checkout(account, "T4", "500.00", "2026-05-01T10:00:00+00:00")

    # when
    with time_machine.travel("2026-06-01T00:00:00+00:00", tick=False):
        response = reader.get(f"/api/v1/customers/{customer.public_id}?embed=renewal")

    # then
    assert response.json()["renewal"] == {
        "tier": "silver",
        "expdate": "2027-02-01T10:00:00Z",
        "keep_threshold": 800,
        "current_value": 900,
        "gap": 0,
        "renew_confirmed": True,
    }


def test_entry_tier_has_no_renewal_and_the_top_tier_no_upgrade(
    reader, ada, tiers, customer_factory, loyalty_account_factory
):
    # given
    member, _account = ada
    gold_customer = customer_factory()
    gold_account = loyalty_account_factory(customer=gold_customer)
    checkout(gold_account, "G1", "6000.00", "2026-01-10T10:00:00+00:00")

    # when
    with time_machine.travel("2026-06-01T00:00:00+00:00", tick=False):
        entry = reader.get(f"/api/v1/customers/{member.public_id}?embed=upgrade,renewal").json()
        top = reader.get(f"/api/v1/customers/{gold_customer.public_id}?embed=upgrade,renewal").json()

    # then
    assert entry["renewal"] is None
    assert entry["upgrade"] == {
        "based_on": "points",
        "current_value": 0,
        "next_tier": {"code": "silver", "name": "Silver"},
        "threshold": 1000,
        "gap": 1000,
        "window_days": 365,
    }
    assert entry["tiers"] == [
        {
            "code": "member",
            "name": "Member",
            "title": "Member",
            "threshold": 0,
            "since": "2026-01-05T10:00:00Z",
            "expdate": None,
            "points": 0,
            "next": {"code": "silver", "name": "Silver", "threshold": 1000, "gap": 1000},
        }
    ]
    assert top["upgrade"] is None
    assert top["tiers"][0]["next"] is None
    assert top["renewal"]["tier"] == "gold"


def test_spend_based_program_shows_money_values(reader, ada, tiers, program):
    # given
    Program.objects.filter(pk=program.pk).update(tier_qualification=Program.TierQualification.SPEND)
    customer, account = ada
    checkout(account, "T1", "250.50", "2026-01-10T10:00:00+00:00")

    # when
    with time_machine.travel("2026-06-01T00:00:00+00:00", tick=False):
        response = reader.get(f"/api/v1/customers/{customer.public_id}?embed=upgrade")

    # then
    body = response.json()
    assert body["upgrade"] == {
        "based_on": "spend",
        "current_value": 250.5,
        "next_tier": {"code": "silver", "name": "Silver"},
        "threshold": 1000.0,
        "gap": 749.5,
        "window_days": 365,
    }
    assert body["tiers"][0]["points"] == 250.5


def test_pending_reserved_and_rejected_purchases(reader, ada, program):
    # given
    Program.objects.filter(pk=program.pk).update(pending_days=14)
    customer, _account = ada
    account = LoyaltyAccount.objects.get(pk=_account.pk)
    accepted = checkout(account, "T1", "80.00", "2026-01-10T10:00:00+00:00")
    rejected = checkout(account, "T2", "50.00", "2026-01-11T10:00:00+00:00")
    checkout(account, "T3", "40.00", "2026-01-12T10:00:00+00:00")
    with time_machine.travel("2026-01-25T10:00:00+00:00", tick=False):
        purchase_accept(purchase=accepted)
        purchase_reject(purchase=rejected)
        points_reserve_for_transaction(
            account=account, transaction_id="T9", points=30, origin=EntrySource(source="event")
        )

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}?embed=expiry_schedule,transactions")

    # then
    body = response.json()
    assert {key: body[key] for key in ("spendable", "pending", "reserved", "spent", "score", "owed")} == {
        "spendable": 50,
        "pending": 40,
        "reserved": 30,
        "spent": 0,
        "score": 80,
        "owed": 0,
    }
    assert (body["purchase_count"], body["purchase_total"]) == (2, 120.0)
    assert body["expiry_schedule"] == [{"points": 50, "expdate": "2027-01-25"}]
    assert [(row["transaction_id"], row["state"]) for row in body["transactions"]] == [
        ("T3", "pending"),
        ("T2", "rejected"),
        ("T1", "accepted"),
    ]


def test_guest_without_an_account(reader, customer_factory, address_factory):
    # given
    customer = customer_factory(first_name="Grace", last_name="Hopper", email="grace@example.com")

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}?embed={ALL_EMBEDS}")

    # then
    body = response.json()
    assert response.status_code == 200
    assert {key: body[key] for key in ("state", "account_number", "currency", "spendable", "score", "tiers")} == {
        "state": "guest",
        "account_number": None,
        "currency": None,
        "spendable": 0,
        "score": 0,
        "tiers": [],
    }
    assert (body["expiry_schedule"], body["upgrade"], body["renewal"], body["transactions"]) == ([], None, None, [])
    assert body["addresses"] == []


def test_blocked_customer_state_is_blocked(reader, ada):
    # given
    customer, _account = ada
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.BLOCKED)

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}")

    # then
    assert (response.json()["status"], response.json()["state"]) == ("blocked", "blocked")


def test_erased_customer_answers_410(reader, ada):
    # given
    customer, _account = ada
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED)

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}?embed=transactions")

    # then
    assert (response.status_code, response.json()) == (410, ERASED)


def test_unknown_customer_is_404_naming_the_customer(reader, db):
    # when
    response = reader.get("/api/v1/customers/C000000000000")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer not found.",
        "code": "CUSTOMER_NOT_FOUND",
        "extra": {"field": "customer"},
    }


@pytest.mark.parametrize(
    ("embed", "named"),
    [("vouchers", '"vouchers"'), ("upgrade,ledger,points", '"ledger", "points"')],
)
def test_unknown_embed_is_400_naming_it(reader, ada, embed, named):
    # given
    customer, _account = ada

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}?embed={embed}")

    # then
    expected = (
        f"Unknown embed {named}; expected any of expiry_schedule, upgrade, renewal, transactions, addresses, coupons."
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": f"embed: {expected}",
        "code": "validation_error",
        "extra": {"fields": {"embed": [expected]}},
    }


def test_embed_names_tolerate_spaces_and_repeats(reader, ada):
    # given
    customer, _account = ada

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}?embed= upgrade , upgrade,,")

    # then
    assert response.status_code == 200
    assert "upgrade" in response.json()


@pytest.mark.parametrize("embed", ["", " ", " , "])
def test_an_empty_embed_asks_for_no_blocks(reader, ada, embed):
    # given
    customer, _account = ada
    without_embed = reader.get(f"/api/v1/customers/{customer.public_id}").json()

    # when
    response = reader.get(f"/api/v1/customers/{customer.public_id}", {"embed": embed})

    # then
    assert response.status_code == 200
    assert response.json() == without_embed


@pytest.mark.parametrize("scopes", [(), ("clienteling",), ("loyalty:write",), ("privacy", "scan_and_go")])
def test_key_without_loyalty_read_scope_is_403(make_api_client, ada, scopes):
    # given
    http, _key = make_api_client(*scopes)
    customer, _account = ada

    # when
    response = http.get(f"/api/v1/customers/{customer.public_id}")

    # then
    assert response.status_code == 403
    assert response.json() == {
        "message": "This API key lacks the 'loyalty:read' scope.",
        "code": "permission_denied",
        "extra": {},
    }


def test_missing_key_is_401(client, ada):
    # given
    customer, _account = ada

    # when
    response = client.get(f"/api/v1/customers/{customer.public_id}")

    # then
    assert response.status_code == 401


def _queries_for_full_view(http, customer):
    http.get(f"/api/v1/customers/{customer.public_id}")  # records the key's last use, outside the budget
    with CaptureQueriesContext(connection) as context:
        response = http.get(f"/api/v1/customers/{customer.public_id}?embed={ALL_EMBEDS}")
    assert response.status_code == 200
    return len(context.captured_queries)


def test_full_view_query_budget(reader, ada, tiers, django_assert_max_num_queries):
    # given
    customer, account = ada
    silver_history(account)
    reader.get(f"/api/v1/customers/{customer.public_id}")

    # when / then
    with django_assert_max_num_queries(FULL_VIEW_QUERY_BUDGET):
        response = reader.get(f"/api/v1/customers/{customer.public_id}?embed={ALL_EMBEDS}")
    assert response.status_code == 200


def test_full_view_query_count_does_not_grow_with_purchases_lots_or_addresses(
    reader, ada, tiers, customer_factory, address_factory, loyalty_account_factory
):
    # given
    small, small_account = ada
    silver_history(small_account)
    large = customer_factory()
    for _ in range(8):
        large.profile_address = address_factory(customer=large)
    large.save()
    large_account = loyalty_account_factory(customer=large)
    checkout(large_account, "L", "1000.00", "2026-01-02T10:00:00+00:00")  # Silver too, so both renew
    for number in range(15):
        checkout(large_account, f"L{number}", "50.00", f"2026-0{1 + number % 5}-{10 + number % 15}T10:00:00+00:00")

    # when
    with time_machine.travel("2026-06-01T00:00:00+00:00", tick=False):
        small_count = _queries_for_full_view(reader, small)
        large_count = _queries_for_full_view(reader, large)

    # then
    assert small_count == large_count <= FULL_VIEW_QUERY_BUDGET


@pytest.mark.django_db
def test_openapi_documents_every_endpoint_with_its_tag_and_examples(client):
    # when
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    # then
    operations = {
        operation["operationId"]: (path, method, operation)
        for path, methods in response.json()["paths"].items()
        for method, operation in methods.items()
    }
    expected = {
        "loyalty_customer_get": ("/api/v1/customers/{customer_id}", "get"),
        "loyalty_customer_lookup": ("/api/v1/customers/lookup", "get"),
        "loyalty_points_preview": ("/api/v1/points/preview", "post"),
        "loyalty_configuration_get": ("/api/v1/configuration", "get"),
        "loyalty_customer_erase": ("/api/v1/customers/{customer_id}/erase", "post"),
    }
    for operation_id, (path, method) in expected.items():
        found_path, found_method, operation = operations[operation_id]
        assert (found_path, found_method, operation["tags"]) == (path, method, ["Loyalty customers"])
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
    schemas = response.json()["components"]["schemas"]
    assert set(schemas["LoyaltyCustomerOutput"]["properties"]) >= {"tiers", "expiry_schedule", "upgrade", "renewal"}
