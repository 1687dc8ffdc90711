"""On PostgreSQL, every SPI search criterion is answered from an index, proven with EXPLAIN on 10,000 customers."""

import pytest
from django.db import connection

from crm.models import Address, Customer
from crm.normalisation import fold_for_search
from crm.selectors import CustomerSearchCriteria, customer_search_queryset
from loyalty.models import LoyaltyAccount, Program
from loyalty.selectors.accounts import customer_pks_by_loyalty_id

CUSTOMER_COUNT = 10_000
LAST_NAMES = ["Smith", "Johnson", "Müller", "García", "Nguyen", "Okafor", "Rossi", "Kowalski", "Tanaka", "Dubois"]


@pytest.fixture
def ten_thousand_customers(on_postgres, db):
    customers = [
        Customer(
            public_id=f"C{index:012d}",
            first_name=f"First{index}",
            last_name=f"{LAST_NAMES[index % 10]}{index}",
            first_name_search=f"first{index}",
            last_name_search=fold_for_search(f"{LAST_NAMES[index % 10]}{index}"),
            email=f"customer{index}@example.com",
            phone_mobile=f"+1217{index:07d}",
            postal_code=f"{index % 1000:05d}",
            postal_code_search=f"{index % 1000:05d}",
        )
        for index in range(CUSTOMER_COUNT)
    ]
    Customer.objects.bulk_create(customers, batch_size=2000)
    first = Customer.objects.get(public_id="C000000000042")
    Address.objects.create(
        customer=first, public_id="A1", postal_code="SW1A 1AA", postal_code_search="SW1A1AA", fingerprint="x"
    )
    program = Program.objects.get(is_default=True)
    LoyaltyAccount.objects.bulk_create(
        [
            LoyaltyAccount(customer=customer, program=program, account_number=f"9{customer.pk:011d}")
            for customer in Customer.objects.only("pk")
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer; ANALYZE crm_address; ANALYZE loyalty_loyaltyaccount")
    return first


def _plan(criteria: CustomerSearchCriteria) -> str:
    return customer_search_queryset(criteria=criteria, queryset=Customer.objects.all())[:20].explain()


def test_every_search_criterion_uses_an_index_not_a_sequential_scan(ten_thousand_customers):
    # given
    account_number = LoyaltyAccount.objects.get(customer=ten_thousand_customers).account_number
    searches = {
        "last-name-prefix": CustomerSearchCriteria(last_name="Müller4"),
        "first-name-prefix": CustomerSearchCriteria(first_name="first99"),
        "email": CustomerSearchCriteria(email="Customer42@example.com"),
        "phone": CustomerSearchCriteria(phone="(217) 000-0042"),
        "postal-code": CustomerSearchCriteria(postal_code="sw1a 1aa"),
        "customer-id": CustomerSearchCriteria(customer_id="C000000000042"),
        "loyalty-id": CustomerSearchCriteria(restrict_to_pks=customer_pks_by_loyalty_id(loyalty_id=account_number)),
    }

    # when
    plans = {name: _plan(criteria) for name, criteria in searches.items()}

    # then
    with_sequential_scan = {name: plan for name, plan in plans.items() if "Seq Scan" in plan}
    assert with_sequential_scan == {}
    assert "customer_name_order" in plans["last-name-prefix"]
    # A first name alone: its own index, or the name order's index walked until a page matches (the planner's choice
    # by the prefix's frequency).
    assert (
        "customer_first_name_prefix" in plans["first-name-prefix"]
        or "customer_name_order" in plans["first-name-prefix"]
    )
    assert "customer_email_unique" in plans["email"]
    assert "customer_phone_mobile" in plans["phone"]
    assert "customer_phone_home" in plans["phone"]
    assert "customer_postal_code" in plans["postal-code"]
    assert "loyalty_loyaltyaccount_account_number" in plans["loyalty-id"]


def test_name_prefix_search_returns_the_right_rows_at_scale(ten_thousand_customers):
    # when
    found = list(customer_search_queryset(criteria=CustomerSearchCriteria(last_name="MÜLLER12"))[:20])

    # then
    expected = ["Müller12", "Müller122"] + [f"Müller12{digit}2" for digit in range(10)]
    assert sorted(customer.last_name for customer in found) == sorted(expected)
    assert len(found) == 12
