from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.rules.tiers import decision_at_expiry, is_upgrade, tier_reached


@dataclass(frozen=True)
class FakeTier:
    code: str
    rank: int
    threshold: Decimal
    renewal_threshold: Decimal | None = None

    @property
    def keep_threshold(self) -> Decimal:
        return self.threshold if self.renewal_threshold is None else self.renewal_threshold


MEMBER = FakeTier("member", 0, Decimal("0"))
SILVER = FakeTier("silver", 1, Decimal("500"))
GOLD = FakeTier("gold", 2, Decimal("1000"))
PLATINUM = FakeTier("platinum", 3, Decimal("5000"))
TIERS = [GOLD, MEMBER, PLATINUM, SILVER]  # any order: the rules sort by rank


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0", "member"),
        ("-10", "member"),
        ("499", "member"),
        ("499.99", "member"),
        ("500", "silver"),
        ("500.00", "silver"),
        ("999.99", "silver"),
        ("1000", "gold"),
        ("4999", "gold"),
        ("5000", "platinum"),
        ("1000000", "platinum"),
    ],
)
def test_tier_reached_is_the_best_tier_whose_threshold_the_value_meets(value, code):
    # when
    reached = tier_reached(TIERS, Decimal(value))

    # then
    assert reached.code == code


def test_tier_reached_is_the_entry_tier_even_when_its_threshold_is_not_met():
    # given
    tiers = [FakeTier("basic", 0, Decimal("10")), FakeTier("plus", 1, Decimal("100"))]

    # when
    reached = tier_reached(tiers, Decimal("5"))

    # then
    assert reached.code == "basic"


@pytest.mark.parametrize(
    ("current", "candidate", "upgrade"),
    [(None, MEMBER, True), (MEMBER, SILVER, True), (SILVER, SILVER, False), (GOLD, SILVER, False)],
)
def test_is_upgrade_only_for_a_higher_rank(current, candidate, upgrade):
    # when
    result = is_upgrade(current, candidate)

    # then
    assert result is upgrade


@pytest.mark.parametrize(
    ("current", "value", "code", "renewed"),
    [
        (GOLD, "1000", "gold", True),
        (GOLD, "4999", "gold", True),
        (GOLD, "5000", "platinum", True),
        (GOLD, "999", "silver", False),
        (GOLD, "500", "silver", False),
        (GOLD, "100", "silver", False),
        (GOLD, "0", "silver", False),
        (PLATINUM, "600", "gold", False),
        (PLATINUM, "1200", "gold", False),
        (SILVER, "499.99", "member", False),
        (SILVER, "500", "silver", True),
        (SILVER, "1000", "gold", True),
    ],
)
def test_decision_at_expiry_renews_moves_up_or_drops_one_tier(current, value, code, renewed):
    # when
    decision = decision_at_expiry(TIERS, current, Decimal(value))

    # then
    assert (decision.tier.code, decision.renewed) == (code, renewed)


@pytest.mark.parametrize(
    ("value", "code", "renewed"),
    [
        ("1200", "gold", True),
        ("1199.99", "silver", False),
        ("1000", "silver", False),
        ("999", "silver", False),
        ("5000", "platinum", True),
    ],
)
def test_decision_at_expiry_uses_the_renewal_threshold_when_it_is_higher(value, code, renewed):
    # given
    gold = FakeTier("gold", 2, Decimal("1000"), renewal_threshold=Decimal("1200"))
    tiers = [MEMBER, SILVER, gold, PLATINUM]

    # when
    decision = decision_at_expiry(tiers, gold, Decimal(value))

    # then
    assert (decision.tier.code, decision.renewed) == (code, renewed)


@pytest.mark.parametrize(
    ("value", "code", "renewed"),
    [("800", "gold", True), ("799", "silver", False), ("999", "gold", True)],
)
def test_decision_at_expiry_uses_the_renewal_threshold_when_it_is_lower(value, code, renewed):
    # given
    gold = FakeTier("gold", 2, Decimal("1000"), renewal_threshold=Decimal("800"))
    tiers = [MEMBER, SILVER, gold]

    # when
    decision = decision_at_expiry(tiers, gold, Decimal(value))

    # then
    assert (decision.tier.code, decision.renewed) == (code, renewed)


@settings(max_examples=200, deadline=None, database=None)
@given(current=st.sampled_from([SILVER, GOLD, PLATINUM]), value=st.integers(min_value=0, max_value=10_000))
def test_decision_at_expiry_never_drops_more_than_one_tier_and_renews_only_when_the_value_keeps_it(current, value):
    # when
    decision = decision_at_expiry(TIERS, current, Decimal(value))

    # then
    assert decision.tier.rank >= current.rank - 1
    assert decision.renewed is (value >= current.keep_threshold)
    assert (decision.tier.rank >= current.rank) is decision.renewed
    assert decision.tier.rank == max(tier_reached(TIERS, Decimal(value)).rank, current.rank - 1)
