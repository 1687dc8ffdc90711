"""loyalty/rules/spot_check.py without HTTP or database: base, deltas, conditions and clamping."""

from dataclasses import replace

import pytest

from loyalty.rules.spot_check import (
    RiskRule,
    ShopperFacts,
    risk_rule_matches,
    risk_rule_parameter_error,
    spot_check_bias,
)

SHOPPER = ShopperFacts(
    tier_bias=0,
    account_override=None,
    store_delta=0,
    has_purchases=True,
    membership_days=400,
    tier_rank=1,
    customer_group="",
    terms_accepted=True,
)


@pytest.mark.parametrize(
    ("facts", "rules", "bias"),
    [
        (SHOPPER, [], 0),
        (replace(SHOPPER, tier_bias=-20), [], -20),
        (replace(SHOPPER, tier_bias=-20, account_override=35), [], 35),
        (replace(SHOPPER, tier_bias=-20, account_override=0), [], 0),
        (replace(SHOPPER, store_delta=15), [], 15),
        (replace(SHOPPER, tier_bias=10, store_delta=15), [RiskRule("tier_rank_at_least", "1", -5)], 20),
        (replace(SHOPPER, tier_bias=80), [RiskRule("no_purchases", "", 50)], 80),
        (replace(SHOPPER, tier_bias=80, has_purchases=False), [RiskRule("no_purchases", "", 50)], 100),
        (replace(SHOPPER, account_override=100, store_delta=100), [], 100),
        (replace(SHOPPER, account_override=-90, store_delta=-30), [], -100),
        (replace(SHOPPER, account_override=-100), [RiskRule("tier_rank_at_most", "5", -100)], -100),
        (replace(SHOPPER, account_override=-100), [RiskRule("tier_rank_at_most", "5", 100)], 0),
        (
            replace(SHOPPER, has_purchases=False, membership_days=3),
            [RiskRule("no_purchases", "", 30), RiskRule("account_younger_than_days", "7", 30)],
            60,
        ),
    ],
    ids=[
        "nothing",
        "tier",
        "override-replaces-tier",
        "override-zero-replaces-tier",
        "store",
        "tier-store-rule",
        "rule-not-applying",
        "rule-applying",
        "clamp-high",
        "clamp-low",
        "clamp-low-exact",
        "deltas-cancel",
        "rules-add-up",
    ],
)
def test_spot_check_bias(facts, rules, bias):
    assert spot_check_bias(facts, rules) == bias


@pytest.mark.parametrize(
    ("rule", "facts", "matches"),
    [
        (RiskRule("no_purchases", "", 1), replace(SHOPPER, has_purchases=False), True),
        (RiskRule("no_purchases", "", 1), SHOPPER, False),
        (RiskRule("account_younger_than_days", "30", 1), replace(SHOPPER, membership_days=29), True),
        (RiskRule("account_younger_than_days", "30", 1), replace(SHOPPER, membership_days=30), False),
        (RiskRule("account_younger_than_days", "30", 1), replace(SHOPPER, membership_days=None), False),
        (RiskRule("tier_rank_at_least", "2", 1), replace(SHOPPER, tier_rank=2), True),
        (RiskRule("tier_rank_at_least", "2", 1), replace(SHOPPER, tier_rank=1), False),
        (RiskRule("tier_rank_at_least", "0", 1), replace(SHOPPER, tier_rank=None), False),
        (RiskRule("tier_rank_at_most", "1", 1), replace(SHOPPER, tier_rank=1), True),
        (RiskRule("tier_rank_at_most", "1", 1), replace(SHOPPER, tier_rank=2), False),
        (RiskRule("customer_group_equals", " Staff ", 1), replace(SHOPPER, customer_group="staff"), True),
        (RiskRule("customer_group_equals", "staff", 1), replace(SHOPPER, customer_group="staffing"), False),
        (RiskRule("terms_not_accepted", "", 1), replace(SHOPPER, terms_accepted=False), True),
        (RiskRule("terms_not_accepted", "", 1), SHOPPER, False),
        (RiskRule("tier_rank_at_least", "two", 1), SHOPPER, False),
        (RiskRule("no_purchases", "x", 1), replace(SHOPPER, has_purchases=False), False),
        (RiskRule("unknown_condition", "", 1), SHOPPER, False),
    ],
)
def test_risk_rule_matches(rule, facts, matches):
    assert risk_rule_matches(rule, facts) is matches


@pytest.mark.parametrize(
    ("condition", "parameter", "error"),
    [
        ("account_younger_than_days", "30", ""),
        ("account_younger_than_days", "-1", "This condition needs a whole number of 0 or more."),
        ("tier_rank_at_least", "٣", "This condition needs a whole number of 0 or more."),
        ("tier_rank_at_most", "", "This condition needs a whole number of 0 or more."),
        ("customer_group_equals", "vip", ""),
        ("customer_group_equals", "  ", "This condition needs the customer group to compare with."),
        ("no_purchases", "", ""),
        ("terms_not_accepted", "yes", "This condition takes no parameter; leave it empty."),
    ],
)
def test_risk_rule_parameter_error(condition, parameter, error):
    assert risk_rule_parameter_error(condition, parameter) == error
