from datetime import UTC, datetime
from decimal import Decimal

import time_machine

from loyalty.models import LoyaltyAccount, PointsEntry, Program
from loyalty.services.ledger import EntrySource, account_balances, open_lots
from loyalty.services.points import (
    points_add,
    points_expire,
    points_release_for_transaction,
    points_reserve_for_transaction,
    points_subtract,
)
from loyalty.services.purchases import purchase_checkout, request_fingerprint


def at(day):
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def add(account, points, day, expiry_days):
    """A lot of `points` added on `day`, expiring `expiry_days` later (None: never)."""
    Program.objects.filter(pk=account.program_id).update(points_expiry_days=expiry_days)
    account.program.refresh_from_db()
    with time_machine.travel(at(day), tick=False):
        points_add(account=account, points=points, origin=EntrySource(source="event"))
    return PointsEntry.objects.filter(account=account, is_lot=True).latest("id")


def expire(account, day):
    with time_machine.travel(at(day), tick=False):
        return points_expire(account=account)


def remainders(account):
    return {lot.pk: lot.remaining for lot in open_lots(account)}


def expired_lots(account):
    return [(entry.lot_id, entry.points) for entry in PointsEntry.objects.filter(account=account, kind="expire")]


def assert_ledger_consistent(account):
    account = LoyaltyAccount.objects.get(pk=account.pk)
    balances = account_balances(account)
    assert account.points_balance == balances.spendable == sum(remainders(account).values()) - balances.owed
    assert (balances.owed, balances.pending) == (0, 0)
    assert balances.reserved >= 0
    return balances


def test_lots_expire_first_expiring_first_then_oldest(enrolled_account):
    # given: B and C expire on the same day; B is older
    account = enrolled_account()
    late = add(account, 40, "2026-01-01", expiry_days=60)
    older_same_day = add(account, 20, "2026-01-01", expiry_days=40)
    first = add(account, 10, "2026-01-05", expiry_days=10)
    newer_same_day = add(account, 30, "2026-01-11", expiry_days=30)

    # when
    expired = [expire(account, day) for day in ("2026-01-14", "2026-01-15", "2026-02-10", "2026-03-02")]

    # then
    assert expired == [0, 10, 50, 40]
    assert expired_lots(account) == [
        (first.pk, -10),
        (older_same_day.pk, -20),
        (newer_same_day.pk, -30),
        (late.pk, -40),
    ]
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.expired) == (0, 100)


def test_an_expiry_run_twice_expires_nothing_more(enrolled_account):
    # given
    account = enrolled_account()
    add(account, 10, "2026-01-01", expiry_days=10)
    expire(account, "2026-01-12")

    # when
    again = expire(account, "2026-01-12")

    # then
    assert (again, PointsEntry.objects.filter(account=account, kind="expire").count()) == (0, 1)


def test_a_partially_burned_lot_expires_only_its_remainder(enrolled_account):
    # given
    account = enrolled_account()
    lot = add(account, 100, "2026-01-01", expiry_days=30)
    add(account, 50, "2026-01-02", expiry_days=30)
    with time_machine.travel(at("2026-01-10"), tick=False):
        points_subtract(account=account, points=30, origin=EntrySource(source="event"))

    # when
    expired = expire(account, "2026-01-31")

    # then
    assert (expired, expired_lots(account)) == (70, [(lot.pk, -70)])
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.expired, balances.earned) == (50, 70, 150)


def test_burning_consumes_the_first_expiring_lot_first_not_the_oldest(enrolled_account):
    # given: an old lot that never expires and a newer one that does
    account = enrolled_account()
    never = add(account, 100, "2026-01-01", expiry_days=None)
    expiring = add(account, 100, "2026-01-05", expiry_days=30)

    # when
    with time_machine.travel(at("2026-01-10"), tick=False):
        points_subtract(account=account, points=40, origin=EntrySource(source="event"))
    expired = expire(account, "2026-02-04")

    # then
    burn = PointsEntry.objects.get(account=account, kind="adjust", points__lt=0)
    assert (burn.lot_id, burn.points) == (expiring.pk, -40)
    assert (expired, remainders(account)) == (60, {never.pk: 100})
    assert assert_ledger_consistent(account).spendable == 100


def test_burning_takes_from_the_older_of_two_lots_expiring_together(enrolled_account):
    # given
    account = enrolled_account()
    newer = add(account, 100, "2026-01-11", expiry_days=30)
    older = add(account, 100, "2026-01-01", expiry_days=40)

    # when
    with time_machine.travel(at("2026-01-12"), tick=False):
        points_subtract(account=account, points=120, origin=EntrySource(source="event"))

    # then
    assert remainders(account) == {newer.pk: 80}
    assert older.expires_at == newer.expires_at


def test_a_lot_given_back_by_a_release_after_its_expiry_expires_on_the_next_run(enrolled_account):
    # given: 60 of a lot are reserved when it expires
    account = enrolled_account()
    lot = add(account, 100, "2026-01-01", expiry_days=30)
    with time_machine.travel(at("2026-01-20"), tick=False):
        points_reserve_for_transaction(
            account=account, transaction_id="R1", points=60, origin=EntrySource(source="event")
        )
    expired_while_reserved = expire(account, "2026-02-01")

    # when
    with time_machine.travel(at("2026-02-02"), tick=False):
        points_release_for_transaction(account=account, transaction_id="R1", origin=EntrySource(source="event"))
    given_back = assert_ledger_consistent(account)
    expired_after_release = expire(account, "2026-02-03")

    # then
    assert (expired_while_reserved, given_back.spendable, given_back.reserved) == (40, 60, 0)
    assert expired_after_release == 60
    assert expired_lots(account) == [(lot.pk, -40), (lot.pk, -60)]
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.expired) == (0, 100)


def test_a_checkout_spending_part_of_a_reservation_spends_the_first_expiring_points(enrolled_account):
    # given: the reservation holds 100 points of the expiring lot and 50 of the one that never expires
    account = enrolled_account()
    never = add(account, 100, "2026-01-01", expiry_days=None)
    expiring = add(account, 100, "2026-01-05", expiry_days=30)
    with time_machine.travel(at("2026-01-10"), tick=False):
        points_reserve_for_transaction(
            account=account, transaction_id="T1", points=150, origin=EntrySource(source="event")
        )

    # when
    with time_machine.travel(at("2026-01-10T00:05:00"), tick=False):
        purchase_checkout(
            account=account,
            transaction_id="T1",
            total=Decimal("0"),
            lines=[],
            items=[],
            points_burned=50,
            fingerprint=request_fingerprint({"transaction_id": "T1", "points_burned": 50}),
        )
    expired = expire(account, "2026-02-04")

    # then
    assert (expired, remainders(account)) == (50, {never.pk: 100})
    assert expired_lots(account) == [(expiring.pk, -50)]
    balances = assert_ledger_consistent(account)
    assert (balances.spendable, balances.spent, balances.reserved) == (100, 50, 0)
