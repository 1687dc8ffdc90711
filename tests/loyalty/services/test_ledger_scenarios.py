from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from core.exceptions import ApplicationError
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import EntrySource, account_balances, open_lots
from loyalty.services.points import (
    points_add,
    points_expire,
    points_reserve_for_transaction,
    points_subtract,
)
from loyalty.services.purchases import purchase_accept, purchase_checkout, purchase_refund, request_fingerprint


def checkout(account, transaction_id, total, burned=0):
    payload = {"transaction_id": transaction_id, "total": str(total), "points_burned": burned}
    return purchase_checkout(
        account=account,
        transaction_id=transaction_id,
        total=Decimal(total),
        lines=[],
        items=[],
        points_burned=burned,
        fingerprint=request_fingerprint(payload),
    )


def assert_ledger_consistent(account):
    account = LoyaltyAccount.objects.get(pk=account.pk)
    balances = account_balances(account)
    spendable = PointsEntry.objects.filter(account=account, bucket="spendable").aggregate(s=Sum("points"))["s"] or 0
    remaining = sum(lot.remaining for lot in open_lots(account))
    assert account.points_balance == spendable == balances.spendable
    assert balances.spendable == remaining - balances.owed
    assert balances.owed == 0 or remaining == 0
    assert balances.pending >= 0
    assert balances.reserved >= 0
    return balances


def test_checkout_earns_and_burns(enrolled_account):
    # given
    account = enrolled_account()

    # when
    checkout(account, "T1", "100.00")
    checkout(account, "T2", "50.00", burned=30)

    # then
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.spent, balances.earned) == (120, 30, 150)


def test_lots_expire_first_in_first_out_and_only_their_remainder(enrolled_account):
    # given
    account = enrolled_account(points_expiry_days=30)
    with time_machine.travel("2026-01-01T00:00:00+00:00", tick=False):
        checkout(account, "T1", "100")
    with time_machine.travel("2026-01-10T00:00:00+00:00", tick=False):
        checkout(account, "T2", "100")
        points_subtract(account=account, points=40, origin=EntrySource(source="event"))

    # when
    expired_first = points_expire(account=account, now=datetime(2026, 2, 1, tzinfo=UTC))
    expired_second = points_expire(account=account, now=datetime(2026, 2, 10, tzinfo=UTC))

    # then
    assert (expired_first, expired_second) == (60, 100)
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.expired) == (0, 160)


def test_pending_points_confirm_on_accept(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    purchase = checkout(account, "T1", "80").purchase
    assert assert_ledger_consistent(account).pending == 80

    # when
    purchase_accept(purchase=purchase)

    # then
    balances = assert_ledger_consistent(account)
    assert (balances.pending, balances.spendable) == (0, 80)
    assert Purchase.objects.get(pk=purchase.pk).state == "accepted"


def test_refund_of_spent_points_leaves_the_customer_owing_and_later_earnings_repay(enrolled_account):
    # given
    account = enrolled_account()
    purchase = checkout(account, "T1", "100").purchase
    checkout(account, "T2", "0", burned=90)

    # when
    purchase_refund(purchase=purchase, amount=Decimal("60"))
    owing = assert_ledger_consistent(account)
    purchase_refund(purchase=purchase)
    checkout(account, "T3", "150")

    # then
    assert (owing.spendable, owing.owed) == (-50, 50)
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.owed) == (60, 0)
    assert Purchase.objects.get(pk=purchase.pk).points_taken_back == 100


def test_reservation_is_spent_by_the_checkout(enrolled_account):
    # given
    account = enrolled_account()
    points_add(account=account, points=100, origin=EntrySource(source="event"))
    points_reserve_for_transaction(account=account, transaction_id="T9", points=70, origin=EntrySource(source="event"))
    assert assert_ledger_consistent(account).reserved == 70

    # when
    checkout(account, "T9", "0", burned=50)

    # then
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.reserved, balances.spent) == (50, 0, 50)


def test_burning_more_than_the_balance_is_refused_and_writes_nothing(enrolled_account):
    # given
    account = enrolled_account()
    checkout(account, "T1", "10")

    # when
    with pytest.raises(ApplicationError) as error:
        checkout(account, "T2", "5", burned=11)

    # then
    assert (error.value.code, error.value.status) == ("INSUFFICIENT_POINTS", 409)
    assert not Purchase.objects.filter(transaction_id="T2").exists()
    assert assert_ledger_consistent(account).spendable == 10


def test_same_checkout_twice_counts_once_and_a_different_one_is_a_conflict(enrolled_account):
    # given
    account = enrolled_account()
    first = checkout(account, "T1", "10")

    # when
    again = checkout(account, "T1", "10")
    with pytest.raises(ApplicationError) as error:
        checkout(account, "T1", "11")

    # then
    assert (first.created, again.created, again.purchase.pk) == (True, False, first.purchase.pk)
    assert error.value.code == "ERR_TX_ALREADY_EXISTS"
    assert assert_ledger_consistent(account).spendable == 10
