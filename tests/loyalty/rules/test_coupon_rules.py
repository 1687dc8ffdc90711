"""Coupon eligibility and discount rules at their boundaries (loyalty/rules/coupons.py). Pure: no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyalty.rules.coupons import (
    CHANNEL,
    CUSTOMER_LIMIT,
    ENDED,
    INACTIVE,
    MIN_BASKET,
    NOT_YET_VALID,
    TIER,
    TOTAL_LIMIT,
    CartLine,
    CouponTerms,
    coupon_discount,
    coupon_failures,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
INSIDE = datetime(2026, 3, 15, tzinfo=UTC)
TICK = timedelta(microseconds=1)

TERMS = CouponTerms(
    kind="percent",
    value=Decimal("10"),
    valid_from=START,
    valid_until=END,
    channels=frozenset({"pos", "scan_and_go"}),
    eligible_tiers=frozenset({"gold", "platinum"}),
    min_basket=Decimal("50.00"),
    limit_per_customer=2,
    limit_total=100,
)
OK = {
    "tier": "gold",
    "channel": "pos",
    "now": INSIDE,
    "basket": Decimal("50.00"),
    "customer_uses": 0,
    "total_uses": 0,
}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - TICK, [NOT_YET_VALID]),
        (START, []),
        (INSIDE, []),
        (END - TICK, []),
        (END, [ENDED]),
        (END + timedelta(days=1), [ENDED]),
    ],
)
def test_validity_window_is_from_inclusive_until_exclusive(now, expected):
    # when
    failures = coupon_failures(TERMS, **{**OK, "now": now})

    # then
    assert failures == expected


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "now", "expected"),
    [
        (None, None, datetime(1990, 1, 1, tzinfo=UTC), []),
        (None, END, END - TICK, []),
        (None, END, END, [ENDED]),
        (START, None, START - TICK, [NOT_YET_VALID]),
        (START, None, datetime(2099, 1, 1, tzinfo=UTC), []),
    ],
)
def test_open_ended_windows(valid_from, valid_until, now, expected):
    # given
    terms = CouponTerms(kind="amount", value=Decimal("5"), valid_from=valid_from, valid_until=valid_until)

    # when
    failures = coupon_failures(terms, **{**OK, "now": now})

    # then
    assert failures == expected


@pytest.mark.parametrize(
    ("basket", "expected"),
    [
        (Decimal("0.00"), [MIN_BASKET]),
        (Decimal("49.99"), [MIN_BASKET]),
        (Decimal("50.00"), []),
        (Decimal("50.01"), []),
    ],
)
def test_minimum_basket_is_inclusive(basket, expected):
    # when
    failures = coupon_failures(TERMS, **{**OK, "basket": basket})

    # then
    assert failures == expected


@pytest.mark.parametrize(
    ("customer_uses", "total_uses", "expected"),
    [
        (0, 0, []),
        (1, 98, []),
        (1, 99, []),
        (2, 99, [CUSTOMER_LIMIT]),
        (1, 100, [TOTAL_LIMIT]),
        (2, 100, [CUSTOMER_LIMIT, TOTAL_LIMIT]),
        (3, 150, [CUSTOMER_LIMIT, TOTAL_LIMIT]),
    ],
)
def test_a_limit_of_n_allows_n_uses(customer_uses, total_uses, expected):
    # when
    failures = coupon_failures(TERMS, **{**OK, "customer_uses": customer_uses, "total_uses": total_uses})

    # then
    assert failures == expected


def test_no_limits_means_unlimited():
    # given
    terms = CouponTerms(kind="amount", value=Decimal("5"))

    # when
    failures = coupon_failures(terms, **{**OK, "customer_uses": 10_000, "total_uses": 10_000_000})

    # then
    assert failures == []


@pytest.mark.parametrize(
    ("eligible_tiers", "tier", "expected"),
    [
        (frozenset(), None, []),
        (frozenset(), "member", []),
        (frozenset({"gold", "platinum"}), "gold", []),
        (frozenset({"gold", "platinum"}), "platinum", []),
        (frozenset({"gold", "platinum"}), "member", [TIER]),
        (frozenset({"gold", "platinum"}), None, [TIER]),
    ],
)
def test_eligible_tiers_empty_means_everyone(eligible_tiers, tier, expected):
    # given
    terms = CouponTerms(kind="amount", value=Decimal("5"), eligible_tiers=eligible_tiers)

    # when
    failures = coupon_failures(terms, **{**OK, "tier": tier})

    # then
    assert failures == expected


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("pos", []), ("scan_and_go", []), ("web", [CHANNEL]), ("", [CHANNEL])],
)
def test_channel_must_be_listed(channel, expected):
    # when
    failures = coupon_failures(TERMS, **{**OK, "channel": channel})

    # then
    assert failures == expected


def test_inactive_definition_is_never_eligible():
    # given
    terms = CouponTerms(kind="amount", value=Decimal("5"), is_active=False)

    # when
    failures = coupon_failures(terms, **OK)

    # then
    assert failures == [INACTIVE]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"now": END, "channel": "web"}, [ENDED, CHANNEL]),
        ({"now": START - TICK, "tier": None, "basket": Decimal("49.99")}, [NOT_YET_VALID, TIER, MIN_BASKET]),
        ({"channel": "web", "tier": "member", "customer_uses": 2}, [CHANNEL, TIER, CUSTOMER_LIMIT]),
        ({"basket": Decimal("49.99"), "total_uses": 100}, [MIN_BASKET, TOTAL_LIMIT]),
        (
            {
                "now": END,
                "channel": "web",
                "tier": "member",
                "basket": Decimal("0"),
                "customer_uses": 2,
                "total_uses": 100,
            },
            [ENDED, CHANNEL, TIER, MIN_BASKET, CUSTOMER_LIMIT, TOTAL_LIMIT],
        ),
        ({"now": START, "basket": Decimal("50.00"), "customer_uses": 1, "total_uses": 99}, []),
    ],
)
def test_every_failed_rule_is_reported_in_a_fixed_order(changes, expected):
    # when
    failures = coupon_failures(TERMS, **{**OK, **changes})

    # then
    assert failures == expected


def _lines(*prices):
    return [CartLine(product_id=f"P{index}", unit_price=Decimal(price)) for index, price in enumerate(prices)]


@pytest.mark.parametrize(
    ("percent", "prices", "expected"),
    [
        ("10", ("100.00",), Decimal("10.00")),
        ("10", ("0.05",), Decimal("0.01")),  # 0.005 rounds half up
        ("10", ("0.04",), Decimal("0.00")),  # 0.004 rounds down
        ("15", ("19.99", "5.01"), Decimal("3.75")),
        ("33.33", ("10.00",), Decimal("3.33")),
        ("100", ("12.34", "0.66"), Decimal("13.00")),
        ("10", (), Decimal("0.00")),
    ],
)
def test_percent_discount_rounds_half_up_to_cents(percent, prices, expected):
    # given
    terms = CouponTerms(kind="percent", value=Decimal(percent))

    # when
    discount = coupon_discount(terms, _lines(*prices))

    # then
    assert discount == expected


def test_percent_discount_only_on_discountable_lines():
    # given
    terms = CouponTerms(kind="percent", value=Decimal("50"))
    lines = [
        CartLine(product_id="SHIRT", unit_price=Decimal("20.00"), quantity=2),
        CartLine(product_id="GIFTCARD", unit_price=Decimal("50.00"), discountable=False),
    ]

    # when
    discount = coupon_discount(terms, lines)

    # then
    assert discount == Decimal("20.00")


@pytest.mark.parametrize(
    ("amount", "prices", "expected"),
    [
        ("5.00", ("20.00",), Decimal("5.00")),
        ("20.00", ("20.00",), Decimal("20.00")),
        ("20.01", ("20.00",), Decimal("20.00")),
        ("50.00", ("12.50", "7.50"), Decimal("20.00")),
        ("5.00", (), Decimal("0.00")),
    ],
)
def test_amount_discount_is_capped_at_the_basket(amount, prices, expected):
    # given
    terms = CouponTerms(kind="amount", value=Decimal(amount))

    # when
    discount = coupon_discount(terms, _lines(*prices))

    # then
    assert discount == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([CartLine("COFFEE", Decimal("3.20"))], Decimal("3.20")),
        ([CartLine("COFFEE", Decimal("3.20"), quantity=3), CartLine("BAGEL", Decimal("2.00"))], Decimal("3.20")),
        ([CartLine("BAGEL", Decimal("2.00"))], None),
        ([CartLine("COFFEE", Decimal("3.20"), quantity=0)], None),
        ([], None),
    ],
)
def test_free_item_gives_one_unit_price_if_in_the_basket(lines, expected):
    # given
    terms = CouponTerms(kind="free_item", product_id="COFFEE")

    # when
    discount = coupon_discount(terms, lines)

    # then
    assert discount == expected
