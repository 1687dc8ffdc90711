"""Concurrent requests on one account, on PostgreSQL: row locks keep burns and reservations from overdrawing and
a transaction id from being recorded twice. SQLite serialises writers, so these tests are skipped there."""

from collections import Counter
from decimal import Decimal

import pytest

from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import EntrySource, account_balances, open_lots
from loyalty.services.points import points_add, points_reserve_for_transaction, points_subtract
from loyalty.services.purchases import purchase_checkout, purchase_refund, request_fingerprint
from tests.loyalty.services.concurrency import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def checkout(account, transaction_id, total="0", burned=0):
    payload = {"transaction_id": transaction_id, "total": total, "points_burned": burned}
    return purchase_checkout(
        account=account,
        transaction_id=transaction_id,
        total=Decimal(total),
        lines=[],
        items=[],
        points_burned=burned,
        fingerprint=request_fingerprint(payload),
    )


def balances_of(account):
    account = LoyaltyAccount.objects.get(pk=account.pk)
    balances = account_balances(account)
    assert account.points_balance == balances.spendable == sum(lot.remaining for lot in open_lots(account))
    return balances


@pytest.mark.parametrize(("via", "kind"), [("checkout", "burn"), ("subtract", "adjust")])
def test_fifty_concurrent_burns_of_points_for_twenty_burn_exactly_twenty(on_postgres, enrolled_account, via, kind):
    # given
    account = enrolled_account()
    points_add(account=account, points=200, origin=EntrySource(source="event"))

    def burn(index):
        if via == "checkout":
            checkout(account, f"B{index}", burned=10)
        else:
            points_subtract(account=account, points=10, origin=EntrySource(source="event"))

    # when
    results = in_threads(50, burn)

    # then
    assert Counter(results) == {"ok": 20, ("INSUFFICIENT_POINTS", 409): 30}
    balances = balances_of(account)
    assert (balances.spendable, balances.owed) == (0, 0)
    burns = PointsEntry.objects.filter(account=account, kind=kind, points__lt=0)
    assert (burns.count(), sum(burns.values_list("points", flat=True))) == (20, -200)
    assert Purchase.objects.filter(account=account).count() == (20 if via == "checkout" else 0)


def test_concurrent_duplicate_checkouts_create_one_purchase(on_postgres, enrolled_account):
    # given
    account = enrolled_account()
    created = []

    def post(_index):
        created.append(checkout(account, "T1", total="100.00").created)

    # when
    results = in_threads(10, post)

    # then
    assert (Counter(results), Counter(created)) == ({"ok": 10}, {True: 1, False: 9})
    assert Purchase.objects.filter(account=account).count() == 1
    assert balances_of(account).spendable == 100


def test_concurrent_checkouts_with_one_id_and_different_content_keep_the_first(on_postgres, enrolled_account):
    # given
    account = enrolled_account()

    # when
    results = in_threads(8, lambda index: checkout(account, "T1", total=f"{10 + index}.00"))

    # then
    assert Counter(results) == {"ok": 1, ("ERR_TX_ALREADY_EXISTS", 409): 7}
    purchase = Purchase.objects.get(account=account)
    assert balances_of(account).spendable == purchase.points_earned == int(purchase.total)


def test_concurrent_reservations_and_burns_never_overdraw(on_postgres, enrolled_account):
    # given
    account = enrolled_account()
    points_add(account=account, points=100, origin=EntrySource(source="event"))

    def reserve_or_burn(index):
        if index % 2:
            points_reserve_for_transaction(
                account=account, transaction_id=f"R{index}", points=10, origin=EntrySource(source="event")
            )
        else:
            checkout(account, f"B{index}", burned=10)

    # when
    results = in_threads(30, reserve_or_burn)

    # then
    assert Counter(results) == {"ok": 10, ("INSUFFICIENT_POINTS", 409): 20}
    balances = balances_of(account)
    assert (balances.spendable, balances.reserved + balances.spent) == (0, 100)


def test_concurrent_checkouts_spending_their_reservations_and_other_burns_never_overdraw(on_postgres, enrolled_account):
    # given: 60 of 100 points are reserved for R0..R5
    account = enrolled_account()
    points_add(account=account, points=100, origin=EntrySource(source="event"))
    for index in range(6):
        points_reserve_for_transaction(
            account=account, transaction_id=f"R{index}", points=10, origin=EntrySource(source="event")
        )

    def spend(index):
        if index < 6:
            checkout(account, f"R{index}", burned=15)
        else:
            points_subtract(account=account, points=10, origin=EntrySource(source="event"))

    # when
    results = in_threads(16, spend)

    # then: whatever the order, the 40 free points were never overdrawn; a refused request needed more than was
    # left, and points only went down
    checkouts, subtracts = Counter(results[:6]), Counter(results[6:])
    assert set(checkouts) | set(subtracts) <= {"ok", ("INSUFFICIENT_POINTS", 409)}
    balances = balances_of(account)
    assert balances.spendable == 40 - 5 * checkouts["ok"] - 10 * subtracts["ok"] >= 0
    assert (balances.reserved, balances.spent) == (10 * (6 - checkouts["ok"]), 15 * checkouts["ok"])
    assert balances.spendable < 5 or checkouts["ok"] == 6
    assert balances.spendable < 10 or subtracts["ok"] == 10


def test_concurrent_partial_refunds_never_refund_more_than_the_total(on_postgres, enrolled_account):
    # given
    account = enrolled_account()
    purchase = checkout(account, "T1", total="100.00").purchase

    # when
    results = in_threads(5, lambda _index: purchase_refund(purchase=purchase, amount=Decimal("30.00")))

    # then
    assert Counter(results) == {"ok": 3, ("REFUND_EXCEEDS_TOTAL", 422): 2}
    purchase.refresh_from_db()
    assert (purchase.refunded_total, purchase.points_taken_back) == (Decimal("90.00"), 90)
    assert balances_of(account).spendable == 10
