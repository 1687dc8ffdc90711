from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import override_settings

from crm.models import Customer
from crm.selectors import CustomerSearchCriteria, customer_search_queryset
from loyalty.models import Card, LoyaltyAccount, Program
from loyalty.selectors.accounts import customer_pks_by_loyalty_id
from loyalty.services.cards import card_issue

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [customer["profile"]["customerId"] for customer in response.json()["customers"]]


@pytest.fixture
def people(customer_factory, address_factory):
    mueller = customer_factory(
        public_id="C1",
        first_name="Jürgen",
        last_name="Müller",
        email="j.mueller@example.com",
        phone_mobile="+12175550100",
        postal_code="62701",
    )
    miller = customer_factory(
        public_id="C2", first_name="Anna", last_name="Miller", email="anna@example.com", phone_mobile="+442071838750"
    )
    mullins = customer_factory(
        public_id="C3",
        first_name="Jurgen",
        last_name="Mullins",
        email="jm@example.com",
        phone_mobile="",
        phone_home="+12175550100",
    )
    address_factory(customer=miller, postal_code="SW1A 1AA")
    return mueller, miller, mullins


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lastName=mul", ["C1", "C3"]),
        ("lastName=MÜL", ["C1", "C3"]),
        ("lastName=Müller", ["C1"]),
        ("firstName=jur", ["C1", "C3"]),
        ("firstName=jur&lastName=mull", ["C1", "C3"]),
        ("firstName=jur&lastName=mulli", ["C3"]),
        ("lastName=mil", ["C2"]),
        ("email=J.Mueller@Example.COM", ["C1"]),
        ("email=mueller@example.com", []),
        ("phone=(217)%20555-0100", ["C1", "C3"]),
        ("phone=%2B1%20217%20555%200100", ["C1", "C3"]),
        ("phoneMobile=217.555.0100&lastName=Mu", ["C1", "C3"]),
        ("phone=%2B44%2020%207183%208750", ["C2"]),
        ("postalCode=sw1a1aa", ["C2"]),
        ("postalCode=62701", ["C1"]),
        ("customerId=C2", ["C2"]),
        ("customerId=C2&lastName=Mul", []),
        ("lastName=zzz", []),
    ],
)
def test_search_matches_on_normalised_values(pos_client, people, query, expected):
    # when
    response = pos_client.get(f"/endpoint/sa/customers?{query}")

    # then
    assert _ids(response) == expected


def test_search_by_loyalty_id_finds_the_account_holder(pos_client, people, loyalty_account_factory):
    # given
    account = loyalty_account_factory(customer=people[1])
    spaced = f"{account.account_number[:4]} {account.account_number[4:8]} {account.account_number[8:]}"

    # when
    response = pos_client.get(f"/endpoint/sa/customers?loyaltyId={spaced.replace(' ', '%20')}")

    # then
    assert _ids(response) == ["C2"]
    assert response.json()["customers"][0]["loyaltyProfile"]["accountNumber"] == account.account_number


def test_search_by_loyalty_id_finds_the_holder_of_a_card_with_that_number(pos_client, people, loyalty_account_factory):
    # given: Anna's physical card has a number of its own; Jürgen's account number is not a card of Anna's
    anna = loyalty_account_factory(customer=people[1])
    juergen = loyalty_account_factory(customer=people[0])
    card_issue(account=anna, number="7700 1234-5678")

    # when
    by_card = pos_client.get("/endpoint/sa/customers?loyaltyId=7700-1234-5678")
    by_card_compact = pos_client.get("/endpoint/sa/customers?loyaltyId=770012345678&lastName=mil")
    by_account_number = pos_client.get(f"/endpoint/sa/customers?loyaltyId={juergen.account_number}")
    by_card_other_name = pos_client.get("/endpoint/sa/customers?loyaltyId=770012345678&lastName=mul")
    by_unknown_number = pos_client.get("/endpoint/sa/customers?loyaltyId=770012345679")

    # then
    assert _ids(by_card) == ["C2"]
    assert _ids(by_card_compact) == ["C2"]
    assert _ids(by_account_number) == ["C1"]
    assert _ids(by_card_other_name) == []
    assert _ids(by_unknown_number) == []


def test_search_by_loyalty_id_finds_a_card_stored_without_leading_zeros(
    pos_client, people, program, loyalty_account_factory
):
    # given: a program that strips leading zeros stored "0000 4242" as 4242
    Program.objects.filter(pk=program.pk).update(card_number_strip_leading_zeros=True)
    account = loyalty_account_factory(customer=people[2])
    card_issue(account=account, number="0000 4242")

    # when
    response = pos_client.get("/endpoint/sa/customers?loyaltyId=00004242")

    # then
    assert _ids(response) == ["C3"]


def test_search_by_card_number_runs_the_query_budget_of_any_search(
    pos_client, people, django_assert_num_queries, loyalty_account_factory
):
    # given: 1 customer query (the loyalty id a subquery of it), 4 prefetches; the key is the warm-up's copy
    account = loyalty_account_factory(customer=people[1])
    card_issue(account=account, number="770012345678")
    pos_client.get("/endpoint/sa/customers/warm-up")  # records the key's last use, a write outside the budget

    # when
    with django_assert_num_queries(5):
        response = pos_client.get("/endpoint/sa/customers?loyaltyId=770012345678")

    # then
    assert _ids(response) == ["C2"]


def test_search_by_loyalty_id_uses_the_account_and_card_indexes_on_postgres(on_postgres, customer_factory, program):
    # given: 2,000 members, each with a physical card besides the account number
    customers = Customer.objects.bulk_create(
        [Customer(public_id=f"C{index:06d}", last_name=f"Name{index}") for index in range(2000)]
    )
    accounts = LoyaltyAccount.objects.bulk_create(
        [
            LoyaltyAccount(customer=customer, program=program, account_number=f"9{index:011d}")
            for index, customer in enumerate(customers)
        ]
    )
    Card.objects.bulk_create(
        [
            Card(account=account, number=f"77{index:010d}", normalised_number=f"77{index:010d}", issued_at=NOW)
            for index, account in enumerate(accounts)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer; ANALYZE loyalty_loyaltyaccount; ANALYZE loyalty_card")
    criteria = CustomerSearchCriteria(restrict_to_pks=customer_pks_by_loyalty_id(loyalty_id="77 0000 0000 42"))

    # when
    queryset = customer_search_queryset(criteria=criteria)[:20]
    plan = queryset.explain()

    # then
    assert [customer.public_id for customer in queryset] == ["C000042"]
    assert "Seq Scan" not in plan
    assert "loyalty_loyaltyaccount_account_number" in plan
    assert "loyalty_card_normalised_number" in plan


def test_search_skips_erased_customers(pos_client, people):
    # given
    Customer.objects.filter(public_id="C1").update(status=Customer.Status.ERASED)

    # when
    response = pos_client.get("/endpoint/sa/customers?lastName=mu")

    # then
    assert _ids(response) == ["C3"]
    assert pos_client.get("/endpoint/sa/customers/C1").status_code == 404


def test_search_is_bounded_by_limit(pos_client, customer_factory):
    # given
    for index in range(105):
        customer_factory(last_name=f"Smith{index:03d}")

    # when
    default = pos_client.get("/endpoint/sa/customers?lastName=smith")
    five = pos_client.get("/endpoint/sa/customers?lastName=smith&limit=5")
    too_many = pos_client.get("/endpoint/sa/customers?lastName=smith&limit=1000")

    # then
    assert len(default.json()["customers"]) == 20
    assert [c["profile"]["lastName"] for c in five.json()["customers"]] == [f"Smith{i:03d}" for i in range(5)]
    assert len(too_many.json()["customers"]) == 100


def test_search_treats_like_wildcards_literally(pos_client, customer_factory):
    # given
    customer_factory(last_name="Smith")

    # when
    response = pos_client.get("/endpoint/sa/customers?lastName=S%25")

    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "VALIDATION_ERROR"


@override_settings(SPI_RESPONSE_ENVELOPE="bare", SPI_EMIT_LEGACY_LOYALTY_PROFILE=True)
def test_bare_envelope_and_legacy_loyalty_alias(pos_client, people, loyalty_account_factory):
    # given
    account = loyalty_account_factory(customer=people[0])

    # when
    search = pos_client.get("/endpoint/sa/customers?customerId=C1")
    single = pos_client.get("/endpoint/sa/customers/C1")

    # then
    assert isinstance(search.json(), list)
    assert search.json()[0]["profile"]["customerId"] == "C1"
    assert single.json()["profile"]["customerId"] == "C1"
    assert single.json()["customerLoyaltyProfile"] == single.json()["loyaltyProfile"]
    assert single.json()["loyaltyProfile"]["accountNumber"] == account.account_number


@override_settings(SPI_DATE_FORMAT="iso")
def test_birthday_can_be_written_as_iso_date(pos_client, customer_factory):
    # given
    customer_factory(public_id="C9", birthday="1980-12-10")

    # when
    response = pos_client.get("/endpoint/sa/customers/C9")

    # then
    assert response.json()["customer"]["profile"]["birthday"] == "1980-12-10"
