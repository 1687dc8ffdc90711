"""The SPI loyaltyProfile from the ledger and tiers, and orderCount / orderList from purchases (issue 3, item 6)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from loyalty.models import LoyaltyAccount, Program, Tier
from loyalty.selectors.accounts import loyalty_accounts_with_activity_prefetch
from loyalty.services.ledger import EntrySource, account_balances
from loyalty.services.points import points_add, points_reserve_for_transaction
from loyalty.services.purchases import (
    purchase_refund,
    purchase_reject,
)
from loyalty.services.tiers import qualifying_value
from tests.loyalty.factories import LoyaltyAccountFactory, PurchaseFactory

QUERIES_PER_REQUEST = 5  # as in test_spi_query_budget.py


def ms(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp() * 1000)


def checkout(account, transaction_id, total, moment):
    with time_machine.travel(moment, tick=False):
        return PurchaseFactory(account=account, transaction_id=transaction_id, total=total)


@pytest.fixture
def program(db):
    return Program.objects.get(is_default=True)


@pytest.fixture
def tiers(program):
    Tier.objects.create(
        program=program,
        rank=1,
        code="silver",
        name="Silver",
        title="Silver member",
        threshold=Decimal("1000"),
        earn_multiplier=Decimal("1.5"),
    )
    Tier.objects.create(program=program, rank=2, code="gold", name="Gold", title="Gold", threshold=Decimal("5000"))


def enrolled(customer_factory, **fields):
    customer = customer_factory(**fields)
    return customer, LoyaltyAccountFactory(customer=customer)


def fresh(account):
    return LoyaltyAccount.objects.select_related("program", "tier").get(pk=account.pk)


def test_loyalty_profile_and_orders_come_from_ledger_tiers_and_purchases(pos_client, customer_factory, tiers, program):
    # given
    with time_machine.travel("2026-01-05T10:00:00+00:00", tick=False):
        customer, account = enrolled(customer_factory, first_name="Ada", last_name="Lovelace")
    checkout(account, "T1", "1200.00", "2026-01-10T10:00:00+00:00")
    with time_machine.travel("2026-01-15T10:00:00+00:00", tick=False):
        points_reserve_for_transaction(
            account=account, transaction_id="R1", points=100, origin=EntrySource(source="event")
        )
    LoyaltyAccount.objects.filter(pk=account.pk).update(store_credit=Decimal("25.50"))
    Program.objects.filter(pk=program.pk).update(pending_days=14)
    checkout(fresh(account), "T2", "40.00", "2026-02-01T10:00:00+00:00")
    rejected = checkout(fresh(account), "T3", "10.00", "2026-02-02T10:00:00+00:00")
    purchase_reject(purchase=rejected)

    # when
    with time_machine.travel("2026-02-05T00:00:00+00:00", tick=False):
        response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    body = response.json()["customer"]
    assert body["loyaltyProfile"] == {
        "accountNumber": account.account_number,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "currentPoints": 1100,
        "cashRewards": 25.5,
        "currentStoreCredit": 25.5,
        "currentTier": {
            "name": "Silver",
            "title": "Silver member",
            "startDate": ms("2026-01-10T10:00:00+00:00"),
            "expiryDate": ms("2027-01-10T10:00:00+00:00"),
        },
        "enrollmentDate": ms("2026-01-05T10:00:00+00:00"),
        "customLoyaltyAttributes": {
            "pendingPoints": 60,
            "reservedPoints": 100,
            "lifetimePoints": 1200,
            "tierCode": "silver",
            "nextTier": "gold",
            "pointsToNextTier": 3800,
        },
        "coupons": [],
    }
    assert body["orderCount"] == 2
    assert body["orderList"] == [
        {
            "orderId": "T3",
            "orderDate": ms("2026-02-02T10:00:00+00:00"),
            "orderTotal": 10.0,
            "currency": "USD",
            "status": "rejected",
            "pointsEarned": 15,
        },
        {
            "orderId": "T2",
            "orderDate": ms("2026-02-01T10:00:00+00:00"),
            "orderTotal": 40.0,
            "currency": "USD",
            "status": "pending",
            "pointsEarned": 60,
        },
        {
            "orderId": "T1",
            "orderDate": ms("2026-01-10T10:00:00+00:00"),
            "orderTotal": 1200.0,
            "currency": "USD",
            "status": "accepted",
            "pointsEarned": 1200,
        },
    ]


def test_order_list_holds_the_latest_ten_and_order_count_all(pos_client, customer_factory):
    # given
    customer, account = enrolled(customer_factory)
    for day in range(1, 16):
        checkout(account, f"T{day:02d}", "10.00", f"2026-03-{day:02d}T10:00:00+00:00")

    # when
    response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    body = response.json()["customer"]
    assert body["orderCount"] == 15
    assert [order["orderId"] for order in body["orderList"]] == [f"T{day:02d}" for day in range(15, 5, -1)]


def test_customer_without_account_has_no_loyalty_profile_and_no_orders(pos_client, customer_factory):
    # given
    customer = customer_factory()

    # when
    response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    body = response.json()["customer"]
    assert "loyaltyProfile" not in body
    assert (body["orderCount"], body["orderList"]) == (0, [])


def test_top_tier_leaves_next_tier_out(pos_client, customer_factory, tiers):
    # given
    customer, account = enrolled(customer_factory)
    checkout(account, "T1", "6000.00", "2026-01-10T10:00:00+00:00")

    # when
    with time_machine.travel("2026-02-01T00:00:00+00:00", tick=False):
        response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    assert response.json()["customer"]["loyaltyProfile"]["customLoyaltyAttributes"] == {
        "pendingPoints": 0,
        "reservedPoints": 0,
        "lifetimePoints": 6000,
        "tierCode": "gold",
    }


def test_spend_program_gives_the_spend_gap(pos_client, customer_factory, tiers, program):
    # given
    Program.objects.filter(pk=program.pk).update(tier_qualification=Program.TierQualification.SPEND)
    customer, account = enrolled(customer_factory)
    checkout(account, "T1", "250.50", "2026-01-10T10:00:00+00:00")

    # when
    with time_machine.travel("2026-02-01T00:00:00+00:00", tick=False):
        response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    attributes = response.json()["customer"]["loyaltyProfile"]["customLoyaltyAttributes"]
    assert (attributes["nextTier"], attributes["pointsToNextTier"]) == ("silver", 749.5)


def _queries(http, path):
    http.get("/endpoint/sa/customers/warm-up")  # records the key's last use, a write outside the budget
    with CaptureQueriesContext(connection) as context:
        response = http.get(path)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_query_count_does_not_grow_with_orders_or_results(pos_client, customer_factory, tiers):
    # given
    few, few_account = enrolled(customer_factory, last_name="Orders")
    checkout(few_account, "F1", "10.00", "2026-01-01T10:00:00+00:00")
    many, many_account = enrolled(customer_factory, last_name="Orders")
    for number in range(12):
        checkout(many_account, f"M{number}", "70.00", f"2026-01-{1 + number:02d}T10:00:00+00:00")
    for _ in range(5):
        _customer, account = enrolled(customer_factory, last_name="Orders")
        checkout(account, f"X{account.pk}", "5.00", "2026-01-02T10:00:00+00:00")

    # when
    counts = [
        _queries(pos_client, f"/endpoint/sa/customers/{few.public_id}"),
        _queries(pos_client, f"/endpoint/sa/customers/{many.public_id}"),
        _queries(pos_client, "/endpoint/sa/customers?lastName=orders&limit=100"),
    ]

    # then
    assert counts == [QUERIES_PER_REQUEST] * 3


def _annotated(account, now):
    customer = Customer.objects.prefetch_related(loyalty_accounts_with_activity_prefetch(now=now)).get(
        pk=account.customer_id
    )
    return customer.loyalty_accounts_prefetched[0]


@pytest.mark.parametrize("qualification", ["points", "spend"])
def test_annotations_equal_the_ledger_and_qualifying_value(customer_factory, tiers, program, qualification):
    # given: earnings inside, at and outside the window, an adjustment, a partial refund and a reservation
    Program.objects.filter(pk=program.pk).update(tier_qualification=qualification)
    _customer, account = enrolled(customer_factory)
    account = fresh(account)
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    checkout(account, "OLD", "300.00", (now - timedelta(days=400)).isoformat())
    checkout(account, "EDGE", "200.00", (now - timedelta(days=365)).isoformat())
    checkout(account, "IN", "700.00", (now - timedelta(days=364)).isoformat())
    recent = checkout(account, "RECENT", "400.00", (now - timedelta(days=10)).isoformat())
    with time_machine.travel(now - timedelta(days=5), tick=False):
        purchase_refund(purchase=recent, amount=Decimal("150.00"))
        points_add(account=account, points=75, origin=EntrySource(source="event"))
        points_reserve_for_transaction(
            account=account, transaction_id="R1", points=40, origin=EntrySource(source="event")
        )
    account = fresh(account)

    # when
    annotated = _annotated(account, now)

    # then
    balances = account_balances(account)
    expected = qualifying_value(account=account, now=now)
    value = annotated.qualifying_points if qualification == "points" else annotated.qualifying_spend
    assert Decimal(value) == expected
    # EDGE sits exactly on the window's start and is out; IN, RECENT (less its refund) and the adjustment are in.
    assert expected == (Decimal("1150") if qualification == "points" else Decimal("950.00"))
    assert (annotated.pending_points, annotated.reserved_points, annotated.lifetime_points) == (
        balances.pending,
        balances.reserved,
        balances.earned,
    )
    assert annotated.points_balance == balances.spendable
