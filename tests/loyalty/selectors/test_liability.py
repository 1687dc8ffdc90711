"""The points liability report (loyalty/selectors/liability.py): exact figures for a known ledger, its query budget,
and, property-based, that its totals and every table add up to the ledger and to the accounts' balances for any
sequence of earns, burns, refunds, reservations, pending purchases and expiries."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db.models import Sum
from hypothesis import given, settings

from loyalty.models import LoyaltyAccount, PointsEntry, Program
from loyalty.selectors.liability import NEVER, OWED, LiabilityRow, points_liability
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add, points_expire, points_subtract
from loyalty.services.purchases import purchase_checkout, request_fingerprint
from tests.loyalty.services.test_ledger_properties import ACCOUNTS_AND_SEQUENCES, HYPOTHESIS_SETTINGS, LedgerRun

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)


def _checkout(account, transaction_id: str, total: str) -> None:
    payload = {"transaction_id": transaction_id, "total": total}
    purchase_checkout(
        account=account,
        transaction_id=transaction_id,
        total=Decimal(total),
        lines=[],
        items=[],
        points_burned=0,
        fingerprint=request_fingerprint(payload),
    )


@pytest.mark.django_db
def test_known_ledger_gives_exact_months_values_and_breakage(enrolled_account, program):
    # given: burn value 0.02, points expire 60 days after confirmation, a 10-day return window
    account = enrolled_account(burn_value=Decimal("0.02"), points_expiry_days=60, pending_days=10)
    other = enrolled_account()
    with time_machine.travel(JAN, tick=False) as clock:
        points_add(account=account, points=100, origin=EntrySource(source="admin"))  # lot Jan, expires Mar
        clock.shift(timedelta(days=31))  # 10 Feb
        points_add(account=other, points=50, origin=EntrySource(source="admin"))  # lot Feb, expires Apr
        points_subtract(account=account, points=30, origin=EntrySource(source="admin"))  # not a burn
        clock.shift(timedelta(days=60))  # 11 Apr: the Jan lot expired on 11 Mar
        assert points_expire(account=account) == 70
        _checkout(other, "T1", "40.00")  # 40 pending, issued Apr, expected expiry 11 Apr + 10 + 60 = 20 Jun

        # when
        report = points_liability(program=Program.objects.get(pk=program.pk), as_of=date(2026, 4, 11))

    # then
    assert (report.spendable, report.pending, report.reserved, report.owed, report.points) == (50, 40, 0, 0, 90)
    assert report.by_issue_month == [
        LiabilityRow(label="2026-02", month=date(2026, 2, 1), spendable=50, pending=0),
        LiabilityRow(label="2026-04", month=date(2026, 4, 1), spendable=0, pending=40),
    ]
    assert report.by_expiry_month == [
        LiabilityRow(label="2026-04", month=date(2026, 4, 1), spendable=50, pending=0),
        LiabilityRow(label="2026-06", month=date(2026, 6, 1), spendable=0, pending=40),
    ]
    assert report.value == Decimal("1.80")
    assert (report.breakage.expired, report.breakage.redeemed, report.breakage.rate) == (70, 0, Decimal("1.0000"))
    assert (report.expected_breakage_points, report.net_points) == (90, 0)


@pytest.mark.django_db
def test_as_of_an_earlier_day_reads_the_ledger_as_it_stood_then(enrolled_account, program):
    # given
    account = enrolled_account()
    with time_machine.travel(JAN, tick=False) as clock:
        points_add(account=account, points=100, origin=EntrySource(source="admin"))
        clock.shift(timedelta(days=1))
        points_add(account=account, points=5, origin=EntrySource(source="admin"))

    # when
    report = points_liability(program=program, as_of=JAN.date())

    # then
    assert (report.spendable, report.by_expiry_month) == (
        100,
        [LiabilityRow(label=NEVER, month=None, spendable=100, pending=0)],
    )
    assert report.breakage.rate is None
    assert (report.expected_breakage_points, report.net_points) == (None, 100)


@pytest.mark.django_db
def test_report_runs_four_queries_whatever_the_ledger(enrolled_account, program, django_assert_num_queries):
    # given
    for points in (10, 20, 30):
        points_add(account=enrolled_account(), points=points, origin=EntrySource(source="admin"))

    # when / then
    with django_assert_num_queries(4):
        report = points_liability(program=program, as_of=date.today())  # noqa: DTZ011 - the day, as finance says it
    assert report.spendable == 60


def _ledger_sums(program: Program) -> dict[str, int]:
    sums = dict(
        PointsEntry.objects.filter(account__program=program)
        .values("bucket")
        .annotate(total=Sum("points"))
        .order_by()
        .values_list("bucket", "total")
    )
    return {bucket: sums.get(bucket, 0) for bucket in ("spendable", "pending", "reserved")}


@pytest.mark.django_db
@settings(HYPOTHESIS_SETTINGS, max_examples=15)
@given(first=ACCOUNTS_AND_SEQUENCES["steps"], second=ACCOUNTS_AND_SEQUENCES["steps"], **{
    name: ACCOUNTS_AND_SEQUENCES[name] for name in ("pending_program", "expiring", "forgive")
})  # fmt: skip
def test_report_totals_equal_the_ledger_and_the_balances_for_any_ledger(
    loyalty_account_factory, program_factory, pending_program, expiring, forgive, first, second
):
    # given: a program of its own for each example (examples share the test's database), two accounts driven
    # through random sequences (refunds of spent points owe points; pending purchases, reservations and expiries
    # included), the clock moving on by days
    program = program_factory(
        burn_value=Decimal("0.0125"),
        pending_days=14 if pending_program else 0,
        points_expiry_days=30 if expiring else None,
        negative_balance_policy="forgive" if forgive else "owe",
    )
    runs = [
        LedgerRun(account=loyalty_account_factory(program=program), pending_program=pending_program, forgive=forgive)
        for _ in range(2)
    ]
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False) as clock:
        for run, steps in zip(runs, (first, second), strict=True):
            run.add(200)
            for name, *arguments in steps:
                if name == "advance":
                    clock.shift(timedelta(days=arguments[0]))
                    run.expire()
                elif name != "replay":
                    getattr(run, name)(*arguments)
        today = datetime.now(tz=UTC).date()

        # when
        report = points_liability(program=Program.objects.get(pk=program.pk), as_of=today)

    # then: the totals are the ledger's sums and the accounts' cached balances
    ledger = _ledger_sums(program)
    balances = LoyaltyAccount.objects.filter(program=program).aggregate(total=Sum("points_balance"))["total"]
    assert (report.spendable, report.pending, report.reserved) == (
        ledger["spendable"],
        ledger["pending"],
        ledger["reserved"],
    )
    assert report.spendable == balances == sum(run.balance for run in runs)
    assert report.pending == sum(model.pending for run in runs for model in run.purchases)
    # and every table adds up to them, owed points included as their own negative row
    for table in (report.by_issue_month, report.by_expiry_month):
        assert sum(row.spendable for row in table) == report.spendable
        assert sum(row.pending for row in table) == report.pending
        assert all(row.spendable >= 0 for row in table if row.label != OWED)
    assert report.value == (Decimal(report.points) * Decimal("0.0125")).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
