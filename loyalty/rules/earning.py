"""The earning rule, in one place: points for a purchase, from the program's rate, rounding, basis and exclusions
and the customer's tier multiplier. Pure: no database."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

ROUNDING_MODES = {"down": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "up": ROUND_CEILING}


@dataclass(frozen=True)
class PurchaseLine:
    product_id: str
    subtotal: Decimal
    category: str = ""
    quantity: Decimal = Decimal("1")


@dataclass(frozen=True)
class EarnRule:
    rate: Decimal
    rounding: str = "down"
    basis: str = "transaction"
    excluded_products: frozenset[str] = frozenset()
    multiplier: Decimal = Decimal("1")


@dataclass(frozen=True)
class EarnResult:
    eligible_total: Decimal
    base: int
    bonus: int

    @property
    def total(self) -> int:
        return self.base + self.bonus


def round_points(value: Decimal, rounding: str) -> int:
    return int(value.to_integral_value(rounding=ROUNDING_MODES[rounding]))


def _eligible_lines(lines: Iterable[PurchaseLine], excluded: frozenset[str]) -> list[PurchaseLine]:
    return [line for line in lines if line.product_id not in excluded and line.category not in excluded]


def points_for_purchase(*, total: Decimal, lines: Sequence[PurchaseLine], rule: EarnRule) -> EarnResult:
    """Without lines the whole total earns. With lines, only eligible lines earn, and never more than the total
    paid (a transaction-level discount lowers what the lines add up to): per item, never more than the eligible
    total rounded up, or rounded down when the program rounds down."""
    if total <= 0:
        return EarnResult(eligible_total=Decimal("0"), base=0, bonus=0)
    if lines:
        eligible = _eligible_lines(lines, rule.excluded_products)
        # A discount line can outweigh the eligible lines (a coupon on an excluded gift card): nothing earns.
        eligible_total = max(min(sum((line.subtotal for line in eligible), Decimal("0")), total), Decimal("0"))
    else:
        eligible, eligible_total = [], total
    if rule.basis == "item" and eligible:
        base = sum(round_points(max(line.subtotal, Decimal("0")) * rule.rate, rule.rounding) for line in eligible)
        base = min(base, round_points(eligible_total * rule.rate, "down" if rule.rounding == "down" else "up"))
    else:
        base = round_points(eligible_total * rule.rate, rule.rounding)
    base = max(base, 0)
    bonus = max(round_points(base * (rule.multiplier - 1), rule.rounding), 0)
    return EarnResult(eligible_total=eligible_total, base=base, bonus=bonus)


def share_of_points(*, points: int, part: Decimal, whole: Decimal) -> int:
    """Points belonging to `part` of `whole`, rounded down, so that shares taken cumulatively reach exactly
    `points` when part reaches whole (a refund in three parts takes back exactly what was earned)."""
    if whole <= 0 or part <= 0:
        return 0
    if part >= whole:
        return points
    return int((Decimal(points) * part / whole).to_integral_value(rounding=ROUND_FLOOR))
