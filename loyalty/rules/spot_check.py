"""Scan & Go spot-check bias, pure (no database): how much more or less likely a shopper is to be checked.

bias = base + store delta + the deltas of every active risk rule whose condition holds, clamped to -100..100,
where base is the member's own override when staff set one, else their tier's default (0 without a tier).
The device vendor reads -100 as "check less" and 100 as "check more"; how it turns that into a probability is
its own business (docs/scan-and-go.md).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

BIAS_MIN = -100
BIAS_MAX = 100

NO_PURCHASES = "no_purchases"
ACCOUNT_YOUNGER_THAN_DAYS = "account_younger_than_days"
TIER_RANK_AT_LEAST = "tier_rank_at_least"
TIER_RANK_AT_MOST = "tier_rank_at_most"
CUSTOMER_GROUP_EQUALS = "customer_group_equals"
TERMS_NOT_ACCEPTED = "terms_not_accepted"

CONDITIONS_WITH_NUMBER = frozenset({ACCOUNT_YOUNGER_THAN_DAYS, TIER_RANK_AT_LEAST, TIER_RANK_AT_MOST})
CONDITIONS_WITH_TEXT = frozenset({CUSTOMER_GROUP_EQUALS})
CONDITIONS_WITHOUT_PARAMETER = frozenset({NO_PURCHASES, TERMS_NOT_ACCEPTED})


@dataclass(frozen=True)
class RiskRule:
    condition: str
    parameter: str
    delta: int


@dataclass(frozen=True)
class ShopperFacts:
    tier_bias: int
    account_override: int | None
    store_delta: int
    has_purchases: bool
    # Whole days since enrolment; None when the enrolment date is unknown (the rule then does not apply).
    membership_days: int | None
    tier_rank: int | None
    customer_group: str
    terms_accepted: bool


def clamp(value: int) -> int:
    return max(BIAS_MIN, min(BIAS_MAX, value))


def risk_rule_parameter_error(condition: str, parameter: str) -> str:
    """Why `parameter` does not suit `condition` ("" when it does), for the admin form."""
    parameter = parameter.strip()
    if condition in CONDITIONS_WITH_NUMBER and not (parameter.isascii() and parameter.isdigit()):
        return _("This condition needs a whole number of 0 or more.")
    if condition in CONDITIONS_WITH_TEXT and not parameter:
        return _("This condition needs the customer group to compare with.")
    if condition in CONDITIONS_WITHOUT_PARAMETER and parameter:
        return _("This condition takes no parameter; leave it empty.")
    return ""


def risk_rule_matches(rule: RiskRule, facts: ShopperFacts) -> bool:
    """Whether the rule's condition holds. A rule with an unusable parameter never matches (the admin refuses
    such rules; this guards rows written around it)."""
    if risk_rule_parameter_error(rule.condition, rule.parameter):
        return False
    parameter = rule.parameter.strip()
    if rule.condition == NO_PURCHASES:
        return not facts.has_purchases
    if rule.condition == TERMS_NOT_ACCEPTED:
        return not facts.terms_accepted
    if rule.condition == CUSTOMER_GROUP_EQUALS:
        return facts.customer_group.strip().casefold() == parameter.casefold()
    number = int(parameter) if condition_takes_number(rule.condition) else 0
    if rule.condition == ACCOUNT_YOUNGER_THAN_DAYS:
        return facts.membership_days is not None and facts.membership_days < number
    if rule.condition == TIER_RANK_AT_LEAST:
        return facts.tier_rank is not None and facts.tier_rank >= number
    if rule.condition == TIER_RANK_AT_MOST:
        return facts.tier_rank is not None and facts.tier_rank <= number
    return False


def condition_takes_number(condition: str) -> bool:
    return condition in CONDITIONS_WITH_NUMBER


def spot_check_bias(facts: ShopperFacts, rules: Iterable[RiskRule]) -> int:
    """The bias sent to the device (see the module docstring)."""
    base = facts.tier_bias if facts.account_override is None else facts.account_override
    total = base + facts.store_delta + sum(rule.delta for rule in rules if risk_rule_matches(rule, facts))
    return clamp(total)
