"""On PostgreSQL, the scan's lookup (query 1) and the loyalty API's identifier=card lookup are answered from the
unique index of normalised card numbers, proven with EXPLAIN on 10,000 accounts with 20,000 cards."""

import pytest
from django.db import connection

from crm.models import Customer
from loyalty.models import Card, LoyaltyAccount, Program
from loyalty.selectors.scan_and_go import card_for_scan_queryset, card_number_condition

ACCOUNT_COUNT = 10_000


@pytest.fixture
def ten_thousand_members(on_postgres, db):
    program = Program.objects.get(is_default=True)
    Customer.objects.bulk_create(
        [Customer(public_id=f"C{index:012d}", last_name=f"Member{index}") for index in range(ACCOUNT_COUNT)],
        batch_size=2000,
    )
    LoyaltyAccount.objects.bulk_create(
        [
            LoyaltyAccount(customer=customer, program=program, account_number=f"9{customer.pk:011d}")
            for customer in Customer.objects.only("pk")
        ],
        batch_size=2000,
    )
    cards = []
    for account in LoyaltyAccount.objects.only("pk", "account_number", "created_at"):
        for number in (account.account_number, f"7{account.pk:011d}"):
            cards.append(Card(account=account, number=number, normalised_number=number, issued_at=account.created_at))
    Card.objects.bulk_create(cards, batch_size=4000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer; ANALYZE loyalty_loyaltyaccount; ANALYZE loyalty_card")
    return LoyaltyAccount.objects.order_by("pk")[ACCOUNT_COUNT // 2]


@pytest.mark.parametrize("scanned", ["{n}", "000{n}", "{a} {b}"], ids=["exact", "leading-zeros", "spaces"])
def test_the_scan_lookup_uses_the_card_number_index(ten_thousand_members, scanned):
    # given
    number = ten_thousand_members.account_number
    value = scanned.format(n=number, a=number[:6], b=number[6:])

    # when
    plan = card_for_scan_queryset(card_number=value).explain()

    # then
    assert "loyalty_card_normalised_number" in plan
    assert "Seq Scan on loyalty_card" not in plan
    assert "Seq Scan on loyalty_loyaltyaccount" not in plan
    assert "Seq Scan on crm_customer" not in plan
    assert [card.account_id for card in card_for_scan_queryset(card_number=value)] == [ten_thousand_members.pk]


def test_the_identifier_card_lookup_uses_the_card_number_index(ten_thousand_members):
    # given
    condition = card_number_condition("000" + ten_thousand_members.account_number)

    # when
    plan = Card.objects.filter(condition).values("account__customer_id")[:2].explain()

    # then
    assert "loyalty_card_normalised_number" in plan
    assert "Seq Scan on loyalty_card" not in plan
