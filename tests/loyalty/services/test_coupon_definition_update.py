"""coupon_definition_update (loyalty/services/coupon_definitions.py): edits are validated like a creation, and
refused, with nothing written, when they would change what vouchers already stand for."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from loyalty.models import CouponDefinition, Program, Tier, TierBenefitCoupon, Voucher
from loyalty.services.coupon_definitions import coupon_definition_update
from tests.loyalty.factories import VoucherFactory

NOW = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)


@pytest.fixture
def gold(program):
    return Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))


@pytest.fixture
def definition(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program, code="spring-10", name="Spring 10", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10")
    )


def _row(definition) -> dict:
    return CouponDefinition.objects.values().get(pk=definition.pk)


def _tiers(definition) -> list[str]:
    return sorted(definition.eligible_tiers.values_list("code", flat=True))


def _redeem_one(definition) -> None:
    voucher = VoucherFactory(definition=definition, now=NOW)
    Voucher.objects.filter(pk=voucher.pk).update(
        status=Voucher.Status.REDEEMED, redeemed_at=NOW, redeemed_transaction_id="T1", redemption_amount=Decimal("1")
    )


def _refusal(definition, **changes) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        coupon_definition_update(definition=definition, **changes)
    return raised.value.message_dict


def test_update_changes_the_given_fields_and_tiers(definition, gold):
    # when
    updated = coupon_definition_update(
        definition=definition, eligible_tiers=[gold], name="Spring 12", value=Decimal("12"), limit_total=500
    )

    # then
    row = _row(definition)
    assert (row["name"], row["value"], row["limit_total"], row["code"]) == (
        "Spring 12",
        Decimal("12"),
        500,
        "spring-10",
    )
    assert _tiers(updated) == ["gold"]


def test_update_without_tiers_keeps_them(definition, gold):
    # given
    definition.eligible_tiers.set([gold])

    # when
    coupon_definition_update(definition=definition, name="Renamed")

    # then
    assert _tiers(definition) == ["gold"]


def test_the_code_is_immutable(definition):
    # given
    before = _row(definition)

    # when
    errors = _refusal(definition, code="autumn-10", name="Autumn")

    # then
    assert errors == {"code": ["The code of a coupon cannot be changed once created."]}
    assert _row(definition) == before


def test_the_program_is_immutable(definition):
    # given
    other = Program.objects.create(code="b2b", name="B2B", currency="EUR")
    before = _row(definition)

    # when
    errors = _refusal(definition, program=other)

    # then
    assert errors == {"program": ["The program of a coupon cannot be changed once created."]}
    assert _row(definition) == before


def test_an_unknown_field_is_refused(definition):
    # when
    errors = _refusal(definition, colour="red")

    # then
    assert errors == {"colour": ["There is no such coupon field."]}


@pytest.mark.parametrize(
    "changes",
    [
        {"value": Decimal("15")},
        {"kind": CouponDefinition.Kind.AMOUNT, "value": Decimal("5")},
    ],
)
def test_the_discount_is_fixed_once_a_voucher_was_redeemed(definition, changes):
    # given
    _redeem_one(definition)
    before = _row(definition)

    # when
    errors = _refusal(definition, name="Changed too", **changes)

    # then
    message = "Vouchers of this coupon were redeemed: its discount can no longer change."
    assert errors == {name: [message] for name in changes}
    assert _row(definition) == before


def test_the_discount_may_change_while_nothing_was_redeemed(definition, voucher_factory):
    # given
    voucher_factory(definition=definition, now=NOW)

    # when
    coupon_definition_update(definition=definition, kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5"))

    # then
    assert (_row(definition)["kind"], _row(definition)["value"]) == ("amount", Decimal("5.00"))


def test_the_total_limit_cannot_fall_below_the_live_vouchers(definition, voucher_factory):
    # given: 3 live vouchers and a cancelled one, which frees its place
    for _ in range(4):
        voucher_factory(definition=definition, now=NOW)
    Voucher.objects.filter(pk=Voucher.objects.order_by("pk").first().pk).update(status=Voucher.Status.CANCELLED)
    before = _row(definition)

    # when
    errors = _refusal(definition, limit_total=2)
    coupon_definition_update(definition=definition, limit_total=3)

    # then
    assert errors == {"limit_total": ["3 vouchers are already issued: the total limit cannot be lower."]}
    assert before["limit_total"] is None
    assert _row(definition)["limit_total"] == 3


def test_model_constraints_are_checked_and_nothing_is_written(definition):
    # given
    before = _row(definition)

    # when
    errors = _refusal(definition, value=Decimal("150"))

    # then
    assert "__all__" in errors
    assert _row(definition) == before


def test_tiers_of_another_program_are_refused(definition):
    # given
    other = Program.objects.create(code="b2b", name="B2B", currency="EUR")
    foreign = Tier.objects.create(program=other, rank=0, code="basic", name="Basic")

    # when
    errors = _refusal(definition, eligible_tiers=[foreign])

    # then
    assert errors == {"eligible_tiers": ["Choose tiers of the coupon's program."]}
    assert _tiers(definition) == []


def test_a_tier_giving_the_coupon_as_a_benefit_must_stay_eligible(definition, gold, program):
    # given
    silver = Tier.objects.create(program=program, rank=2, code="silver", name="Silver", threshold=Decimal("500"))
    definition.eligible_tiers.set([gold, silver])
    TierBenefitCoupon.objects.create(tier=gold, definition=definition)

    # when
    errors = _refusal(definition, eligible_tiers=[silver], name="Renamed")
    coupon_definition_update(definition=definition, eligible_tiers=[gold])

    # then
    assert errors == {"eligible_tiers": ["These tiers give the coupon as a tier benefit and must stay eligible: Gold."]}
    assert _tiers(definition) == ["gold"]
    assert _row(definition)["name"] == "Spring 10"
