"""seed_demo's twelve weeks of history (loyalty/management/demo_history.py): written through the services at their
own past dates, so that every chart of the dashboard has something to show; written once, so that running the
command again changes nothing."""

import importlib.util
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from crm.models import Customer, Store
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase, TierChange, Voucher
from loyalty.selectors.accounts import program_get_default
from loyalty.selectors.dashboard import (
    dashboard_enrolments_per_store,
    dashboard_members_per_tier,
    dashboard_period,
    dashboard_points_per_week,
    dashboard_redemptions_per_coupon,
)
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)
CUSTOMERS = "80"


def _seed() -> str:
    stdout = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--customers", CUSTOMERS, stdout=stdout)
    return stdout.getvalue()


def _history_counts() -> dict[str, int]:
    models = (Customer, LoyaltyAccount, Purchase, PointsEntry, Voucher, TierChange, WebhookEvent)
    return {model.__name__: model.objects.count() for model in models}


@override_settings(DEBUG=True)
def test_seed_demo_writes_twelve_weeks_that_fill_every_dashboard_chart_once():
    # when
    output = _seed()

    # then
    program = program_get_default()
    period = dashboard_period(weeks=12, now=NOW)
    weeks = dashboard_points_per_week(program=program, period=period)
    assert len(weeks) == 12
    assert all(week.earned > 0 for week in weeks)
    assert sum(week.burned for week in weeks) > 0
    assert sum(week.expired for week in weeks) > 0
    # Points of the first weeks expire after 60 days: in the last weeks only.
    assert [week.expired > 0 for week in weeks][:8] == [False] * 8
    tiers = {row.tier: row.members for row in dashboard_members_per_tier(program=program)}
    assert set(tiers) == {"Member", "Silver", "Gold"}
    assert all(members > 0 for members in tiers.values())
    redemptions = dashboard_redemptions_per_coupon(program=program, period=period)
    assert [row.coupon for row in redemptions] == [
        "Welcome: 10 % off (demo-welcome-10)",
        "$5 off your next visit (demo-5-off)",
    ]
    enrolments = dashboard_enrolments_per_store(program=program, period=period)
    assert sorted(row.store for row in enrolments) == [
        "BOS01 Boston flagship",
        "CHI01 Chicago flagship",
        "NYC01 New York flagship",
        "SEA01 Seattle flagship",
        "SFO01 San Francisco flagship",
    ]
    # Every channel the tills and devices use, refunds, and purchases spread over the twelve weeks.
    assert set(Purchase.objects.values_list("channel", flat=True)) == {"pos", "scan_and_go", "web"}
    assert Purchase.objects.filter(refunded_total__gt=0).exists()
    first, last = Purchase.objects.order_by("purchased_at").first(), Purchase.objects.order_by("purchased_at").last()
    assert (NOW - first.purchased_at).days >= 77
    assert (NOW - last.purchased_at).days <= 2
    # Ledger entries carry the moment their purchase happened, as the services wrote them then.
    entry = PointsEntry.objects.filter(purchase=first, kind=PointsEntry.Kind.EARN).get()
    assert entry.created_at == first.purchased_at
    assert Voucher.objects.filter(status=Voucher.Status.REDEEMED).exists()
    assert Voucher.objects.filter(status=Voucher.Status.EXPIRED).exists()
    assert "  history     " in output
    assert " purchases, " in output

    # when: seeded again (one test, not two: a seed of twelve weeks takes seconds)
    counts_after_first_run = _history_counts()
    balances = dict(LoyaltyAccount.objects.values_list("pk", "points_balance"))

    # when
    output = _seed()

    # then
    assert _history_counts() == counts_after_first_run
    assert dict(LoyaltyAccount.objects.values_list("pk", "points_balance")) == balances
    assert "  history     already present" in output


@override_settings(DEBUG=True)
def test_seed_demo_without_time_machine_says_what_to_install_and_writes_nothing(monkeypatch):
    # given: production's requirements.txt alone
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "time_machine" else find_spec(name, *args)
    )

    # when
    with pytest.raises(CommandError) as raised:
        call_command("seed_demo", "--customers", "5", stdout=io.StringIO())

    # then
    assert str(raised.value) == (
        "seed_demo needs time-machine to date the demo history: pip install --require-hashes -r "
        "requirements-run.txt (make install-run)."
    )
    assert Customer.objects.count() == 0
    assert Store.objects.count() == 0
