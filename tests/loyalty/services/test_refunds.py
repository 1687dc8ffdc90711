from decimal import Decimal

import pytest

from core.exceptions import ApplicationError
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import EntrySource, account_balances, open_lots
from loyalty.services.points import points_subtract
from loyalty.services.purchases import (
    purchase_accept,
    purchase_refund,
    purchase_reject,
)
from tests.loyalty.factories import PurchaseFactory


def checkout(account, transaction_id, total, burned=0):
    return PurchaseFactory(account=account, transaction_id=transaction_id, total=total, points_burned=burned)


def spend(account, points):
    points_subtract(account=account, points=points, origin=EntrySource(source="event"))


def refund(purchase, amount=None):
    return purchase_refund(purchase=purchase, amount=None if amount is None else Decimal(amount))


def balances_of(account):
    """The account's balances, after checking that the cached balance, the ledger and the lots agree."""
    account = LoyaltyAccount.objects.get(pk=account.pk)
    balances = account_balances(account)
    remaining = sum(lot.remaining for lot in open_lots(account))
    assert account.points_balance == balances.spendable == remaining - balances.owed
    assert balances.owed == 0 or remaining == 0
    return balances


def test_three_partial_refunds_summing_to_the_total_take_back_exactly_what_was_earned(enrolled_account):
    # given: 99.99 at 1.5 points per unit earns 149 points
    account = enrolled_account(earn_rate=Decimal("1.5"))
    purchase = checkout(account, "T1", "99.99")

    # when
    taken = []
    for _part in range(3):
        before = balances_of(account).spendable
        purchase = refund(purchase, "33.33")
        taken.append(before - balances_of(account).spendable)

    # then
    assert (purchase.points_earned, taken, sum(taken)) == (149, [49, 50, 50], 149)
    assert (purchase.state, purchase.refunded_total, purchase.points_taken_back) == (
        "refunded",
        Decimal("99.99"),
        149,
    )
    assert balances_of(account).spendable == 0


def test_refunding_spent_points_leaves_the_customer_owing_and_later_earnings_repay(enrolled_account):
    # given
    account = enrolled_account()
    purchase = checkout(account, "T1", "100.00")
    spend(account, 100)

    # when
    for amount in ("30.00", "30.00", "40.00"):
        purchase = refund(purchase, amount)
    owing = balances_of(account)
    checkout(account, "T2", "150.00")

    # then
    assert (owing.spendable, owing.owed, purchase.points_taken_back, purchase.points_forgiven) == (-100, 100, 100, 0)
    balances = balances_of(account)
    assert (balances.spendable, balances.owed, balances.earned) == (50, 0, 250)
    settled = PointsEntry.objects.filter(account=account, kind="settle").values_list("points", "lot_id")
    assert sorted((points, lot is None) for points, lot in settled) == [(-100, False), (100, True)]


def test_later_earnings_smaller_than_the_debt_repay_part_of_it(enrolled_account):
    # given
    account = enrolled_account()
    purchase = checkout(account, "T1", "100.00")
    spend(account, 100)
    refund(purchase)

    # when
    checkout(account, "T2", "30.00")

    # then
    balances = balances_of(account)
    assert (balances.spendable, balances.owed) == (-70, 70)
    assert open_lots(account) == []


def test_with_the_forgive_policy_only_the_available_points_are_taken(enrolled_account):
    # given
    account = enrolled_account(negative_balance_policy="forgive")
    purchase = checkout(account, "T1", "100.00")
    spend(account, 60)

    # when
    purchase = refund(purchase)

    # then
    assert (purchase.points_taken_back, purchase.points_forgiven, purchase.state) == (100, 60, "refunded")
    balances = balances_of(account)
    assert (balances.spendable, balances.owed) == (0, 0)


def test_with_the_forgive_policy_points_given_back_are_taken_before_any_are_forgiven(enrolled_account):
    # given: T2 burned 100 and earned 100, and its 100 earned points were spent
    account = enrolled_account(negative_balance_policy="forgive")
    checkout(account, "T1", "100.00")
    purchase = checkout(account, "T2", "100.00", burned=100)
    spend(account, 100)

    # when
    purchase = refund(purchase)

    # then: the same end balance as when the customer owes, and nothing forgiven
    assert (purchase.points_taken_back, purchase.points_returned, purchase.points_forgiven) == (100, 100, 0)
    balances = balances_of(account)
    assert (balances.spendable, balances.owed) == (0, 0)


def test_burned_points_are_given_back_in_proportion_to_the_amount_refunded(enrolled_account):
    # given
    account = enrolled_account()
    checkout(account, "T1", "200.00")
    purchase = checkout(account, "T2", "100.00", burned=50)

    # when
    purchase = refund(purchase, "40.00")
    partly = balances_of(account)
    purchase = refund(purchase)

    # then
    assert partly.spendable == 200 - 50 + 100 - 40 + 20
    assert (purchase.points_taken_back, purchase.points_returned) == (100, 50)
    balances = balances_of(account)
    assert (balances.spendable, balances.spent, balances.earned) == (200, 50, 300)
    returned = PointsEntry.objects.filter(purchase=purchase, kind="refund", is_lot=True).values_list("points")
    assert sorted(returned) == [(20,), (30,)]


def test_refunding_a_pending_purchase_cancels_its_pending_points(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    checkout(account, "T0", "10.00")
    purchase = checkout(account, "T1", "100.00")

    # when
    purchase = refund(purchase, "25.00")
    partly = balances_of(account)
    purchase = refund(purchase)

    # then
    assert (partly.pending, partly.spendable) == (85, 0)
    assert (purchase.state, purchase.points_taken_back, purchase.confirm_at) == ("refunded", 100, None)
    balances = balances_of(account)
    assert (balances.pending, balances.spendable, balances.owed) == (10, 0, 0)
    cancelled = PointsEntry.objects.filter(purchase=purchase, kind="cancel").values_list("points", "bucket")
    assert sorted(cancelled) == [(-75, "pending"), (-25, "pending")]


def test_a_partly_refunded_pending_purchase_confirms_the_rest(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    purchase = refund(checkout(account, "T1", "100.00"), "25.00")

    # when
    purchase = purchase_accept(purchase=purchase)

    # then
    assert purchase.state == "partially_refunded"
    balances = balances_of(account)
    assert (balances.pending, balances.spendable) == (0, 75)


def test_refunding_a_pending_purchase_gives_back_its_burned_points(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    points_purchase = checkout(account, "T0", "100.00")
    purchase_accept(purchase=points_purchase)
    purchase = checkout(account, "T1", "50.00", burned=80)

    # when
    purchase = refund(purchase)

    # then
    assert (purchase.points_returned, purchase.points_taken_back) == (80, 50)
    balances = balances_of(account)
    assert (balances.spendable, balances.pending) == (100, 0)


@pytest.mark.parametrize("amount", ["50.01", "0", "-1.00"])
def test_a_refund_beyond_what_is_left_is_refused_and_writes_nothing(enrolled_account, amount):
    # given
    account = enrolled_account()
    purchase = refund(checkout(account, "T1", "100.00"), "50.00")
    entries = PointsEntry.objects.count()

    # when
    with pytest.raises(ApplicationError) as error:
        refund(purchase, amount)

    # then
    assert (error.value.code, error.value.status, error.value.extra) == (
        "REFUND_EXCEEDS_TOTAL",
        422,
        {"field": "amount"},
    )
    assert PointsEntry.objects.count() == entries
    stored = Purchase.objects.get(pk=purchase.pk)
    assert (stored.refunded_total, stored.points_taken_back, stored.state) == (
        Decimal("50.00"),
        50,
        "partially_refunded",
    )
    assert balances_of(account).spendable == 50


def test_a_full_refund_again_is_a_no_op_and_a_further_partial_refund_is_refused(enrolled_account):
    # given
    account = enrolled_account()
    purchase = refund(checkout(account, "T1", "100.00"))
    entries = PointsEntry.objects.count()

    # when
    again = refund(purchase)
    with pytest.raises(ApplicationError) as error:
        refund(purchase, "1.00")

    # then
    assert (again.state, again.points_taken_back) == ("refunded", 100)
    assert (error.value.code, error.value.status) == ("INVALID_TRANSACTION_STATE", 409)
    assert PointsEntry.objects.count() == entries


def test_a_rejected_purchase_gives_back_its_burned_points_and_awaits_no_confirmation(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    purchase_accept(purchase=checkout(account, "T0", "100.00"))
    purchase = checkout(account, "T1", "50.00", burned=80)

    # when
    purchase = purchase_reject(purchase=purchase)

    # then
    stored = Purchase.objects.get(pk=purchase.pk)
    assert (stored.state, stored.points_returned, stored.confirm_at) == ("rejected", 80, None)
    balances = balances_of(account)
    assert (balances.spendable, balances.pending) == (100, 0)


def test_a_rejected_purchase_cannot_be_refunded(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    purchase = purchase_reject(purchase=checkout(account, "T1", "100.00"))
    entries = PointsEntry.objects.count()

    # when
    with pytest.raises(ApplicationError) as error:
        refund(purchase)

    # then
    assert (error.value.code, error.value.status) == ("INVALID_TRANSACTION_STATE", 409)
    assert PointsEntry.objects.count() == entries
    assert balances_of(account).pending == 0
