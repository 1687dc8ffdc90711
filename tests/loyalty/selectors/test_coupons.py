"""Coupon reads (loyalty/selectors/coupons.py): coupon_terms, the one mapping from a definition to the terms the
coupon rules evaluate, with tier codes whether the tiers are read, prefetched or given; and the channel filter."""

from datetime import UTC, datetime
from decimal import Decimal

from loyalty.models import CouponDefinition
from loyalty.rules.coupons import CouponTerms
from loyalty.selectors.coupons import coupon_channel_condition, coupon_terms

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)


def test_terms_carry_every_rule_field_and_the_eligible_tiers_codes(
    coupon_definition_factory, tier_factory, django_assert_num_queries
):
    # given
    gold, silver = tier_factory(code="gold"), tier_factory(code="silver")
    definition = coupon_definition_factory(
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        valid_from=START,
        valid_until=END,
        channels=["pos", "web"],
        eligible_tiers=[gold, silver],
        min_basket=Decimal("20"),
        limit_per_customer=2,
        limit_total=100,
    )
    definition = CouponDefinition.objects.get(pk=definition.pk)

    # when: the tiers are not prefetched, so one query reads them
    with django_assert_num_queries(1):
        terms = coupon_terms(definition)

    # then
    assert terms == CouponTerms(
        kind="percent",
        value=Decimal("10"),
        product_id="",
        is_active=True,
        valid_from=START,
        valid_until=END,
        channels=frozenset({"pos", "web"}),
        eligible_tiers=frozenset({"gold", "silver"}),
        min_basket=Decimal("20"),
        limit_per_customer=2,
        limit_total=100,
    )


def test_prefetched_tiers_cost_no_query(coupon_definition_factory, tier_factory, django_assert_num_queries):
    # given
    definition = coupon_definition_factory(eligible_tiers=[tier_factory(code="gold")])
    definition = CouponDefinition.objects.prefetch_related("eligible_tiers").get(pk=definition.pk)

    # when
    with django_assert_num_queries(0):
        terms = coupon_terms(definition)

    # then
    assert terms.eligible_tiers == frozenset({"gold"})


def test_an_unsaved_definition_takes_the_tier_codes_given():
    # given: a coupon as a form describes it, not saved (and no database: a query would fail the test)
    definition = CouponDefinition(kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5"), channels=["pos"])

    # when
    terms = coupon_terms(definition, tier_codes=["gold"])

    # then
    assert (terms.kind, terms.value, terms.channels, terms.eligible_tiers) == (
        "amount",
        Decimal("5"),
        frozenset({"pos"}),
        frozenset({"gold"}),
    )


def test_the_channel_condition_matches_whole_channel_names(coupon_definition_factory):
    # given
    pos = coupon_definition_factory(code="pos-only", channels=["pos"])
    coupon_definition_factory(code="scan-only", channels=["scan_and_go"])
    both = coupon_definition_factory(code="both", channels=["scan_and_go", "pos"])

    # when
    found = CouponDefinition.objects.filter(coupon_channel_condition("pos")).order_by("code")

    # then
    assert list(found) == [both, pos]
