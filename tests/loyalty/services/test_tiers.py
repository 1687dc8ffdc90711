from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from loyalty.models import LoyaltyAccount, Tier, TierChange
from loyalty.services.ledger import EntrySource, account_lock
from loyalty.services.points import points_add
from loyalty.services.purchases import purchase_accept, purchase_refund
from loyalty.services.tiers import qualifying_value, tier_evaluate_expiry
from tests.loyalty.factories import PurchaseFactory


def at(day):
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def checkout(account, transaction_id, total, day):
    with time_machine.travel(at(day), tick=False):
        return PurchaseFactory(account=account, transaction_id=transaction_id, total=total)


def evaluate_expiry(account, day):
    with transaction.atomic():
        return tier_evaluate_expiry(account=account_lock(account), now=at(day))


def fresh(account):
    return LoyaltyAccount.objects.select_related("tier").get(pk=account.pk)


def changes(account):
    return [
        (change.reason, change.from_tier.code if change.from_tier else None, change.to_tier.code, change.expires_at)
        for change in TierChange.objects.filter(account=account).order_by("changed_at", "id")
    ]


@pytest.fixture
def tiered_account(program, enrolled_account):
    """tiered_account(**program_changes) -> an account in Member, with Silver at 500 and Gold at 1000 (x1.5)."""
    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("500"))
    Tier.objects.create(
        program=program, rank=2, code="gold", name="Gold", threshold=Decimal("1000"), earn_multiplier=Decimal("1.5")
    )

    def make(**program_changes):
        with time_machine.travel(at("2025-12-01"), tick=False):
            return enrolled_account(**{"tier_validity_days": 365, "tier_window_days": 365, **program_changes})

    return make


@pytest.mark.parametrize(
    ("qualification", "total", "tier", "value"),
    [
        ("points", "250.00", "silver", Decimal("500")),
        ("points", "249.99", "member", Decimal("499")),
        ("points", "500.00", "gold", Decimal("1000")),
        ("points", "499.99", "silver", Decimal("999")),
        ("spend", "500.00", "silver", Decimal("500.00")),
        ("spend", "499.99", "member", Decimal("499.99")),
        ("spend", "1000.00", "gold", Decimal("1000.00")),
        ("spend", "999.99", "silver", Decimal("999.99")),
    ],
)
def test_exactly_at_the_threshold_upgrades_and_one_below_does_not(tiered_account, qualification, total, tier, value):
    # given: points are earned at 2 per unit, so 250.00 spent is 500 points
    account = tiered_account(tier_qualification=qualification, earn_rate=Decimal("2"))

    # when
    checkout(account, "T1", total, "2026-03-01")

    # then
    account = fresh(account)
    assert account.tier.code == tier
    assert qualifying_value(account=account, now=at("2026-03-01")) == value
    if tier == "member":
        assert (account.tier_expires_at, changes(account)) == (None, [])
    else:
        assert (account.tier_achieved_at, account.tier_expires_at) == (at("2026-03-01"), at("2027-03-01"))
        assert changes(account) == [("upgrade", "member", tier, at("2027-03-01"))]
        assert TierChange.objects.get(account=account).qualifying_value == value


def test_points_of_a_pending_purchase_count_only_once_accepted(tiered_account):
    # given
    account = tiered_account(pending_days=14)
    purchase = checkout(account, "T1", "500.00", "2026-03-01")
    assert fresh(account).tier.code == "member"

    # when
    with time_machine.travel(at("2026-03-15"), tick=False):
        purchase_accept(purchase=purchase)

    # then
    account = fresh(account)
    assert (account.tier.code, account.tier_expires_at) == ("silver", at("2027-03-15"))


def test_upgrade_mid_period_starts_a_new_validity_period(tiered_account):
    # given
    account = tiered_account()
    checkout(account, "T1", "500.00", "2026-01-01")

    # when
    checkout(account, "T2", "500.00", "2026-06-01")

    # then
    account = fresh(account)
    assert (account.tier.code, account.tier_achieved_at, account.tier_expires_at) == (
        "gold",
        at("2026-06-01"),
        at("2027-06-01"),
    )
    assert changes(account) == [
        ("upgrade", "member", "silver", at("2027-01-01")),
        ("upgrade", "silver", "gold", at("2027-06-01")),
    ]


def test_the_tier_multiplier_applies_from_the_next_purchase(tiered_account):
    # given
    account = tiered_account()
    upgrading = checkout(account, "T1", "1000.00", "2026-01-01")

    # when
    after = checkout(account, "T2", "101.00", "2026-01-02")

    # then
    assert (upgrading.points_base, upgrading.points_bonus) == (1000, 0)
    assert (after.points_base, after.points_bonus, after.points_earned) == (101, 50, 151)


def test_the_tier_is_not_evaluated_before_it_expires(tiered_account):
    # given
    account = tiered_account()
    checkout(account, "T1", "500.00", "2026-01-01")

    # when
    change = evaluate_expiry(account, "2026-12-31T23:59:59")

    # then
    assert change is None
    assert (fresh(account).tier.code, len(changes(account))) == ("silver", 1)


@pytest.mark.parametrize("qualification", ["points", "spend"])
def test_renewal_met_at_expiry_extends_from_the_old_expiry_date(tiered_account, qualification):
    # given: a 180-day window, so that T1 no longer counts when T2 is bought
    account = tiered_account(tier_qualification=qualification, tier_window_days=180)
    checkout(account, "T1", "500.00", "2026-01-01")
    checkout(account, "T2", "500.00", "2026-10-01")

    # when: the beat job runs a day late
    change = evaluate_expiry(account, "2027-01-02")

    # then
    account = fresh(account)
    assert (change.reason, change.qualifying_value) == ("renewal", Decimal("500"))
    assert (account.tier.code, account.tier_achieved_at, account.tier_expires_at) == (
        "silver",
        at("2026-01-01"),
        at("2028-01-01"),
    )
    assert changes(account)[-1] == ("renewal", "silver", "silver", at("2028-01-01"))


@pytest.mark.parametrize("qualification", ["points", "spend"])
def test_renewal_missed_at_expiry_drops_to_the_entry_tier_which_never_expires(tiered_account, qualification):
    # given
    account = tiered_account(tier_qualification=qualification)
    checkout(account, "T1", "500.00", "2026-01-01")
    checkout(account, "T2", "499.00", "2026-10-01")

    # when
    change = evaluate_expiry(account, "2027-01-01")
    later = evaluate_expiry(account, "2030-01-01")

    # then
    account = fresh(account)
    assert (change.reason, change.qualifying_value, later) == ("downgrade", Decimal("499"), None)
    assert (account.tier.code, account.tier_achieved_at, account.tier_expires_at) == (
        "member",
        at("2027-01-01"),
        None,
    )
    assert changes(account) == [
        ("upgrade", "member", "silver", at("2027-01-01")),
        ("downgrade", "silver", "member", None),
    ]


@pytest.mark.parametrize("qualification", ["points", "spend"])
def test_a_missed_renewal_drops_one_tier_even_when_the_value_only_reaches_the_entry_tier(tiered_account, qualification):
    # given
    account = tiered_account(tier_qualification=qualification)
    checkout(account, "T1", "1000.00", "2026-01-01")
    checkout(account, "T2", "10.00", "2026-06-01")

    # when
    change = evaluate_expiry(account, "2027-01-01")

    # then
    account = fresh(account)
    assert (change.reason, change.from_tier.code, change.to_tier.code) == ("downgrade", "gold", "silver")
    assert (account.tier.code, account.tier_achieved_at, account.tier_expires_at) == (
        "silver",
        at("2027-01-01"),
        at("2028-01-01"),
    )


def test_a_missed_renewal_threshold_drops_one_tier_even_when_the_entry_threshold_is_met(tiered_account, program):
    # given: Gold needs 1000 to reach but 1200 to keep
    Tier.objects.filter(program=program, code="gold").update(renewal_threshold=Decimal("1200"))
    account = tiered_account()
    checkout(account, "T1", "1000.00", "2026-01-01")
    checkout(account, "T2", "700.00", "2026-06-01")

    # when: 700 x 1.5 = 1050 points in the window
    change = evaluate_expiry(account, "2027-01-01")

    # then
    assert (change.reason, change.qualifying_value, change.from_tier.code, change.to_tier.code) == (
        "downgrade",
        Decimal("1050"),
        "gold",
        "silver",
    )
    assert fresh(account).tier.code == "silver"


def test_points_added_by_the_back_office_count_towards_the_tier_at_once(tiered_account):
    # given
    account = tiered_account()

    # when
    with time_machine.travel(at("2026-02-01"), tick=False):
        points_add(account=account, points=500, origin=EntrySource(source="admin", note="Goodwill"))

    # then
    account = fresh(account)
    assert (account.tier.code, account.tier_expires_at) == ("silver", at("2027-02-01"))
    assert changes(account) == [("upgrade", "member", "silver", at("2027-02-01"))]


def test_points_taken_back_by_a_refund_do_not_count_towards_renewal(tiered_account):
    # given
    account = tiered_account(tier_window_days=180)
    checkout(account, "T1", "500.00", "2026-01-01")
    renewing = checkout(account, "T2", "500.00", "2026-10-01")
    with time_machine.travel(at("2026-10-02"), tick=False):
        purchase_refund(purchase=renewing, amount=Decimal("1.00"))

    # when
    change = evaluate_expiry(account, "2027-01-01")

    # then
    assert (change.reason, change.qualifying_value, change.to_tier.code) == ("downgrade", Decimal("499"), "member")


def test_the_entry_tier_never_expires(tiered_account):
    # given
    account = tiered_account()
    checkout(account, "T1", "100.00", "2026-01-01")

    # when
    change = evaluate_expiry(account, "2035-01-01")

    # then
    account = fresh(account)
    assert (change, account.tier.code, account.tier_expires_at, changes(account)) == (None, "member", None, [])


def test_points_that_cross_a_threshold_upgrade_at_once_on_a_running_clock(enrolled_account, program):
    # given: a real clock, as in production (ledger entries are stamped after the service reads the time)
    from decimal import Decimal as D

    from loyalty.models import Tier
    from loyalty.services.ledger import EntrySource
    from loyalty.services.points import points_add

    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=D("100"))
    account = enrolled_account()

    # when
    points_add(account=account, points=150, origin=EntrySource(source="event"))

    # then
    account.refresh_from_db()
    assert account.tier.code == "silver"
