"""Coupon rules, in one place and pure (no database): may a coupon be used, and what discount it gives.

Boundaries, chosen once and tested in tests/loyalty/rules/test_coupon_rules.py:
- the validity window is half-open, [valid_from, valid_until): usable at valid_from, no longer at valid_until
  (so "until 1 June 00:00" ends as May does); a voucher's expires_at is exclusive the same way;
- the minimum basket is inclusive: a basket of exactly min_basket qualifies;
- a limit of N allows N uses: the N+1th is refused (use counts are those before this use);
- no eligible tiers means every tier, and customers without a tier (guests); otherwise a tier is required.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

INACTIVE = "inactive"
NOT_YET_VALID = "not_yet_valid"
ENDED = "ended"
CHANNEL = "channel_not_allowed"
TIER = "tier_not_eligible"
MIN_BASKET = "basket_below_minimum"
CUSTOMER_LIMIT = "customer_limit_reached"
TOTAL_LIMIT = "total_limit_reached"
ITEM_NOT_IN_BASKET = "item_not_in_basket"

# What the back office shows for each reason (the APIs send the codes).
FAILURE_DESCRIPTIONS = {
    INACTIVE: "The coupon is not active.",
    NOT_YET_VALID: "The coupon is not valid yet.",
    ENDED: "The coupon has ended.",
    CHANNEL: "The coupon is not offered on this channel.",
    TIER: "The customer's tier is not eligible.",
    MIN_BASKET: "The basket is below the minimum.",
    CUSTOMER_LIMIT: "The customer has used the coupon as often as allowed.",
    TOTAL_LIMIT: "The coupon has been used as often as allowed.",
    ITEM_NOT_IN_BASKET: "The free item is not in the basket.",
}


@dataclass(frozen=True)
class CouponTerms:
    """What the rules need of a CouponDefinition (loyalty.selectors.coupons.coupon_terms builds it)."""

    kind: str
    value: Decimal = Decimal("0")
    product_id: str = ""
    is_active: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    channels: frozenset[str] = frozenset({"pos", "scan_and_go", "web"})
    eligible_tiers: frozenset[str] = frozenset()
    min_basket: Decimal = Decimal("0")
    limit_per_customer: int | None = None
    limit_total: int | None = None


@dataclass(frozen=True)
class CartLine:
    product_id: str
    unit_price: Decimal
    quantity: int = 1
    # Lines the program excludes from discounts (gift cards, tobacco) count towards the basket, not the discount.
    discountable: bool = True

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


def basket_total(lines: Iterable[CartLine]) -> Decimal:
    return sum((line.total for line in lines), Decimal("0"))


def coupon_failures(
    terms: CouponTerms,
    *,
    tier: str | None,
    channel: str,
    now: datetime,
    basket: Decimal,
    customer_uses: int,
    total_uses: int,
) -> list[str]:
    """Every reason the coupon cannot be used, in a fixed order; empty: eligible."""
    failures = _window_failures(terms, now=now)
    if channel not in terms.channels:
        failures.append(CHANNEL)
    if not tier_is_eligible(terms, tier):
        failures.append(TIER)
    if basket < terms.min_basket:
        failures.append(MIN_BASKET)
    if customer_limit_reached(terms, customer_uses):
        failures.append(CUSTOMER_LIMIT)
    if _total_limit_reached(terms, total_uses):
        failures.append(TOTAL_LIMIT)
    return failures


def coupon_closed_failures(terms: CouponTerms, *, now: datetime, total_uses: int) -> list[str]:
    """The reasons nobody at all can use the coupon at `now` (inactive, outside its window, total limit used up),
    in coupon_failures' order; empty: open, and who may use it is up to tier, channel, basket and own uses."""
    failures = _window_failures(terms, now=now)
    if _total_limit_reached(terms, total_uses):
        failures.append(TOTAL_LIMIT)
    return failures


def tier_is_eligible(terms: CouponTerms, tier: str | None) -> bool:
    return not terms.eligible_tiers or tier in terms.eligible_tiers


def customer_limit_reached(terms: CouponTerms, customer_uses: int) -> bool:
    return terms.limit_per_customer is not None and customer_uses >= terms.limit_per_customer


def _total_limit_reached(terms: CouponTerms, total_uses: int) -> bool:
    return terms.limit_total is not None and total_uses >= terms.limit_total


def _window_failures(terms: CouponTerms, *, now: datetime) -> list[str]:
    failures = []
    if not terms.is_active:
        failures.append(INACTIVE)
    if terms.valid_from is not None and now < terms.valid_from:
        failures.append(NOT_YET_VALID)
    if terms.valid_until is not None and now >= terms.valid_until:
        failures.append(ENDED)
    return failures


def coupon_discount(terms: CouponTerms, lines: Sequence[CartLine]) -> Decimal | None:
    """The discount for a basket, never more than the basket; None when a free-item coupon's item is missing.

    Percent coupons take their percentage of the discountable lines, rounded half up to the cent.
    """
    total = basket_total(lines)
    if terms.kind == "percent":
        eligible = basket_total(line for line in lines if line.discountable)
        discount = (eligible * terms.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    elif terms.kind == "amount":
        discount = terms.value
    elif terms.kind == "free_item":
        prices = [line.unit_price for line in lines if line.product_id == terms.product_id and line.quantity > 0]
        if not prices:
            return None
        discount = prices[0]
    else:
        raise ValueError(f"Unknown coupon kind {terms.kind!r}")
    return min(discount, total).quantize(CENT, rounding=ROUND_HALF_UP)
