import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.rules.earning import EarnRule, PurchaseLine, points_for_purchase, share_of_points


def line(product_id, subtotal, category=""):
    return PurchaseLine(product_id=product_id, subtotal=Decimal(subtotal), category=category)


@pytest.mark.parametrize(
    ("rate", "rounding", "total", "base"),
    [
        ("1", "down", "10.99", 10),
        ("1", "half_up", "10.49", 10),
        ("1", "half_up", "10.50", 11),
        ("1", "up", "10.01", 11),
        ("1", "up", "10.00", 10),
        ("2.5", "down", "10.10", 25),
        ("2.5", "half_up", "10.10", 25),
        ("2.5", "up", "10.10", 26),
        ("0.1", "down", "19.99", 1),
        ("0.1", "half_up", "15.00", 2),
        ("0", "up", "100.00", 0),
    ],
)
def test_rate_and_rounding_per_transaction(rate, rounding, total, base):
    # given
    rule = EarnRule(rate=Decimal(rate), rounding=rounding)

    # when
    result = points_for_purchase(total=Decimal(total), lines=[], rule=rule)

    # then
    assert (result.eligible_total, result.base, result.bonus, result.total) == (Decimal(total), base, 0, base)


@pytest.mark.parametrize(
    ("rounding", "transaction_points", "item_points"),
    [("down", 19, 18), ("half_up", 20, 20), ("up", 20, 20)],
)
def test_per_item_rounds_each_line_and_per_transaction_rounds_the_sum(rounding, transaction_points, item_points):
    # given
    lines = [line("A", "9.99"), line("B", "9.99")]
    per_transaction = EarnRule(rate=Decimal("1"), rounding=rounding, basis="transaction")
    per_item = EarnRule(rate=Decimal("1"), rounding=rounding, basis="item")

    # when
    by_transaction = points_for_purchase(total=Decimal("19.98"), lines=lines, rule=per_transaction)
    by_item = points_for_purchase(total=Decimal("19.98"), lines=lines, rule=per_item)

    # then
    assert (by_transaction.base, by_item.base) == (transaction_points, item_points)


@pytest.mark.parametrize("basis", ["transaction", "item"])
def test_excluded_products_and_categories_earn_nothing(basis):
    # given
    rule = EarnRule(rate=Decimal("1"), basis=basis, excluded_products=frozenset({"GIFTCARD", "tobacco"}))
    lines = [line("SHIRT", "50.00", "apparel"), line("GIFTCARD", "25.00", "cards"), line("CIGS", "20.00", "tobacco")]

    # when
    result = points_for_purchase(total=Decimal("95.00"), lines=lines, rule=rule)

    # then
    assert (result.eligible_total, result.total) == (Decimal("50.00"), 50)


@pytest.mark.parametrize("basis", ["transaction", "item"])
def test_a_cart_of_only_excluded_lines_earns_nothing(basis):
    # given
    rule = EarnRule(rate=Decimal("1"), basis=basis, excluded_products=frozenset({"GIFTCARD"}))

    # when
    result = points_for_purchase(total=Decimal("25.00"), lines=[line("GIFTCARD", "25.00")], rule=rule)

    # then
    assert (result.eligible_total, result.base, result.bonus) == (Decimal("0"), 0, 0)


@pytest.mark.parametrize("basis", ["transaction", "item"])
def test_a_discount_line_larger_than_the_eligible_lines_leaves_an_eligible_total_of_zero(basis):
    # given: a gift card (excluded) bought with a coupon line
    rule = EarnRule(rate=Decimal("1"), basis=basis, excluded_products=frozenset({"GIFTCARD"}))
    lines = [line("GIFTCARD", "50.00"), line("COUPON", "-10.00")]

    # when
    result = points_for_purchase(total=Decimal("40.00"), lines=lines, rule=rule)

    # then
    assert (result.eligible_total, result.base, result.bonus) == (Decimal("0"), 0, 0)


@pytest.mark.parametrize(
    ("multiplier", "rounding", "total", "base", "bonus"),
    [
        ("1", "down", "15", 15, 0),
        ("1.5", "down", "15", 15, 7),
        ("1.5", "half_up", "15", 15, 8),
        ("1.5", "up", "15", 15, 8),
        ("2", "down", "15.99", 15, 15),
        ("1.25", "down", "100", 100, 25),
        ("0.5", "down", "100", 100, 0),
    ],
)
def test_tier_multiplier_adds_a_bonus_on_the_base(multiplier, rounding, total, base, bonus):
    # given
    rule = EarnRule(rate=Decimal("1"), rounding=rounding, multiplier=Decimal(multiplier))

    # when
    result = points_for_purchase(total=Decimal(total), lines=[], rule=rule)

    # then
    assert (result.base, result.bonus, result.total) == (base, bonus, base + bonus)


@pytest.mark.parametrize("total", ["0", "0.00", "-5.00", "-100"])
@pytest.mark.parametrize("basis", ["transaction", "item"])
def test_zero_and_negative_totals_earn_nothing(total, basis):
    # given
    rule = EarnRule(rate=Decimal("1"), rounding="up", basis=basis, multiplier=Decimal("2"))

    # when
    result = points_for_purchase(total=Decimal(total), lines=[line("A", "10.00")], rule=rule)

    # then
    assert (result.eligible_total, result.base, result.bonus) == (Decimal("0"), 0, 0)


@pytest.mark.parametrize(
    ("basis", "rounding", "total", "base"),
    [
        ("transaction", "down", "100.00", 100),
        ("item", "down", "100.00", 100),
        ("item", "down", "100.50", 100),
        ("item", "half_up", "100.50", 101),
        ("item", "up", "100.20", 101),
        ("item", "half_up", "100.20", 101),
        ("item", "down", "100.99", 100),
    ],
)
def test_lines_summing_above_the_total_earn_on_the_total_paid(basis, rounding, total, base):
    # given: a transaction-level discount makes the lines add up to more than was paid
    rule = EarnRule(rate=Decimal("1"), rounding=rounding, basis=basis)
    lines = [line("A", "60.50"), line("B", "60.50")]

    # when
    result = points_for_purchase(total=Decimal(total), lines=lines, rule=rule)

    # then
    assert (result.eligible_total, result.base) == (Decimal(total), base)


@pytest.mark.parametrize(("rounding", "base"), [("down", 0), ("half_up", 2), ("up", 2)])
def test_per_item_rounding_never_earns_more_than_the_eligible_total_rounded_up(rounding, base):
    # given: two small lines that each round up on their own
    rule = EarnRule(rate=Decimal("1"), rounding=rounding, basis="item")
    lines = [line("A", "0.60"), line("B", "0.60"), line("C", "0.20")]

    # when
    result = points_for_purchase(total=Decimal("1.40"), lines=lines, rule=rule)

    # then
    assert result.base == base


def test_lines_below_the_total_earn_on_the_lines_only():
    # given: shipping is not a line and does not earn
    rule = EarnRule(rate=Decimal("1"))

    # when
    result = points_for_purchase(total=Decimal("30.00"), lines=[line("A", "25.00")], rule=rule)

    # then
    assert (result.eligible_total, result.base) == (Decimal("25.00"), 25)


def test_per_item_ignores_negative_lines_but_never_earns_above_what_was_paid():
    # given
    rule = EarnRule(rate=Decimal("1"), basis="item")
    lines = [line("A", "50.00"), line("COUPON", "-10.00")]

    # when
    result = points_for_purchase(total=Decimal("40.00"), lines=lines, rule=rule)

    # then
    assert (result.eligible_total, result.base) == (Decimal("40.00"), 40)


@pytest.mark.parametrize(
    ("points", "part", "whole", "share"),
    [
        (100, "0", "100", 0),
        (100, "-1", "100", 0),
        (100, "10", "0", 0),
        (100, "33.33", "100", 33),
        (100, "99.99", "100", 99),
        (100, "100", "100", 100),
        (100, "150", "100", 100),
        (99, "33.33", "100", 32),
        (99, "33.33", "99.99", 33),
        (99, "66.66", "99.99", 66),
        (99, "99.99", "99.99", 99),
        (0, "50", "100", 0),
        (3, "1", "3", 1),
    ],
)
def test_share_of_points(points, part, whole, share):
    # when
    result = share_of_points(points=points, part=Decimal(part), whole=Decimal(whole))

    # then
    assert result == share


@settings(max_examples=200, deadline=None, database=None)
@given(
    points=st.integers(min_value=0, max_value=10**7),
    cents=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8),
)
def test_shares_taken_cumulatively_reach_exactly_the_points_and_never_more(points, cents):
    # given: a purchase refunded in len(cents) parts that add up to its total
    parts = [Decimal(cent) / 100 for cent in cents]
    whole = sum(parts, Decimal("0"))

    # when
    cumulative = list(itertools.accumulate(parts))
    shares = [share_of_points(points=points, part=refunded, whole=whole) for refunded in cumulative]

    # then
    assert shares[-1] == points
    assert all(later >= earlier for earlier, later in itertools.pairwise([0, *shares]))
    assert all(share * whole <= points * refunded for share, refunded in zip(shares, cumulative, strict=True))
