"""Tier benefits (loyalty/services/tier_benefits.py): coupons issued on enrolment and on upgrade into a tier, once
per occasion, with refusals logged rather than raised; a benefit's coupon must be for its tier, checked when it is
configured and again when it is given."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from loyalty.models import CouponDefinition, Program, Tier, TierBenefitCoupon, TierBenefitGrant, TierChange, Voucher
from loyalty.services.ledger import EntrySource, account_lock
from loyalty.services.points import points_add
from loyalty.services.tier_benefits import tier_benefit_coupon_create, tier_benefit_coupon_update, tier_benefits_issue
from tests.loyalty.factories import CouponDefinitionFactory

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def coupon(program, code, **fields):
    return CouponDefinitionFactory(
        program=program, code=code, name=code, kind=CouponDefinition.Kind.PERCENT, value=Decimal("10"), **fields
    )


@pytest.fixture
def entry_tier(program):
    return program.tiers.order_by("rank").first()


@pytest.fixture
def gold(program):
    return Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("100"))


def vouchers(account):
    return sorted(Voucher.objects.filter(customer=account.customer).values_list("definition__code", flat=True))


def upgrade(account, points=100):
    points_add(account=account, points=points, origin=EntrySource(source="admin", note="Goodwill"))
    return TierChange.objects.filter(account=account, reason=TierChange.Reason.UPGRADE).latest("id")


def test_enrolment_issues_the_entry_tiers_enrolment_coupons_only(program, entry_tier, enrolled_account):
    # given
    TierBenefitCoupon.objects.create(tier=entry_tier, definition=coupon(program, "welcome"), on_enrolment=True)
    TierBenefitCoupon.objects.create(
        tier=entry_tier, definition=coupon(program, "upgrade-only"), on_enrolment=False, on_upgrade=True
    )

    # when
    account = enrolled_account()

    # then
    assert vouchers(account) == ["welcome"]
    assert TierBenefitGrant.objects.get(account=account).occasion == "enrolment"


def test_an_upgrade_issues_the_new_tiers_coupons_once_per_upgrade(program, gold, enrolled_account):
    # given
    TierBenefitCoupon.objects.create(tier=gold, definition=coupon(program, "gold-welcome"), validity_days=30)
    TierBenefitCoupon.objects.create(
        tier=gold, definition=coupon(program, "gold-enrol"), on_enrolment=True, on_upgrade=False
    )
    account = enrolled_account()

    # when
    change = upgrade(account)

    # then
    assert vouchers(account) == ["gold-welcome"]
    voucher = Voucher.objects.get(customer=account.customer)
    assert (voucher.expires_at - voucher.issued_at).days == 30

    # when: the same occasion again
    with transaction.atomic():
        again = tier_benefits_issue(account=account_lock(account), tier_change=change, reason=change.reason)

    # then
    assert again == []
    assert vouchers(account) == ["gold-welcome"]


def test_a_refusal_is_logged_and_recorded_and_does_not_stop_the_upgrade(program, gold, enrolled_account, caplog):
    # given: a coupon already at its total limit
    limited = coupon(program, "gold-limited", limit_total=1)
    TierBenefitCoupon.objects.create(tier=gold, definition=limited)
    TierBenefitCoupon.objects.create(tier=gold, definition=coupon(program, "gold-open"))
    first = enrolled_account()
    upgrade(first)
    second = enrolled_account()

    # when
    with caplog.at_level("INFO", logger="loyalty.services.tier_benefits"):
        change = upgrade(second)

    # then
    assert change.to_tier == gold
    assert vouchers(second) == ["gold-open"]
    refused = TierBenefitGrant.objects.get(account=second, benefit__definition=limited)
    assert (refused.outcome, refused.refusal, refused.voucher) == ("refused", "COUPON_LIMIT_REACHED", None)
    assert "COUPON_LIMIT_REACHED" in caplog.text


def test_renewals_and_downgrades_give_nothing(program, gold, enrolled_account):
    # given
    TierBenefitCoupon.objects.create(tier=gold, definition=coupon(program, "gold-welcome"), on_enrolment=True)
    account = enrolled_account()
    change = upgrade(account)
    Voucher.objects.all().delete()

    # when
    for reason in (TierChange.Reason.RENEWAL, TierChange.Reason.DOWNGRADE):
        with transaction.atomic():
            grants = tier_benefits_issue(account=account_lock(account), tier_change=change, reason=reason, now=NOW)

        # then
        assert grants == []
    assert not Voucher.objects.exists()


def test_a_coupon_not_for_the_tier_is_refused_and_recorded(program, gold, enrolled_account, caplog):
    # given: a gold benefit whose coupon was later restricted to another tier (behind the services' back)
    silver = Tier.objects.create(program=program, rank=2, code="silver", name="Silver", threshold=Decimal("500"))
    restricted = coupon(program, "gold-restricted")
    TierBenefitCoupon.objects.create(tier=gold, definition=restricted)
    restricted.eligible_tiers.set([silver])
    open_to_all = coupon(program, "gold-open")
    TierBenefitCoupon.objects.create(tier=gold, definition=open_to_all)
    for_gold = coupon(program, "gold-only", eligible_tiers=[gold])
    TierBenefitCoupon.objects.create(tier=gold, definition=for_gold)
    account = enrolled_account()

    # when
    with caplog.at_level("INFO", logger="loyalty.services.tier_benefits"):
        upgrade(account)

    # then
    assert vouchers(account) == ["gold-only", "gold-open"]
    refused = TierBenefitGrant.objects.get(account=account, benefit__definition=restricted)
    assert (refused.outcome, refused.refusal, refused.voucher) == ("refused", "tier_not_eligible", None)
    assert "tier_not_eligible" in caplog.text


def test_configuring_a_benefit_checks_program_and_eligible_tiers(program, gold):
    # given
    silver = Tier.objects.create(program=program, rank=2, code="silver", name="Silver", threshold=Decimal("500"))
    for_silver = coupon(program, "silver-only", eligible_tiers=[silver])
    other_program = Program.objects.create(code="b2b", name="B2B", currency="EUR")
    foreign = coupon(other_program, "b2b-10")

    # when
    with pytest.raises(ValidationError) as not_for_gold:
        tier_benefit_coupon_create(tier=gold, definition=for_silver)
    with pytest.raises(ValidationError) as of_another_program:
        tier_benefit_coupon_create(tier=gold, definition=foreign)
    created = tier_benefit_coupon_create(tier=silver, definition=for_silver, on_enrolment=True, validity_days=30)

    # then
    assert not_for_gold.value.message_dict == {
        "definition": ["The coupon is not for Gold: add the tier to its eligible tiers first."]
    }
    assert of_another_program.value.message_dict == {"definition": ["Choose a coupon of the tier's program."]}
    assert list(TierBenefitCoupon.objects.values_list("tier__code", "definition__code")) == [("silver", "silver-only")]
    assert (created.on_enrolment, created.on_upgrade, created.validity_days) == (True, True, 30)


def test_updating_a_benefit_to_a_tier_the_coupon_is_not_for_writes_nothing(program, gold, entry_tier):
    # given
    benefit = tier_benefit_coupon_create(tier=gold, definition=coupon(program, "gold-only", eligible_tiers=[gold]))

    # when
    with pytest.raises(ValidationError) as raised:
        tier_benefit_coupon_update(benefit=benefit, tier=entry_tier, validity_days=7)

    # then
    assert list(raised.value.message_dict) == ["definition"]
    benefit.refresh_from_db()
    assert (benefit.tier, benefit.validity_days) == (gold, None)


def test_tier_benefit_vouchers_record_their_origin(program, entry_tier, enrolled_account):
    # given
    tier_benefit_coupon_create(tier=entry_tier, definition=coupon(program, "welcome"), on_enrolment=True)

    # when
    account = enrolled_account()

    # then
    grant = TierBenefitGrant.objects.get(account=account)
    assert (grant.voucher.origin, grant.voucher.batch, grant.voucher.customer) == (
        "tier_benefit",
        None,
        account.customer,
    )


def test_an_inactive_benefit_gives_nothing_on_enrolment_and_records_no_grant(program, entry_tier, enrolled_account):
    # given
    stopped = tier_benefit_coupon_create(tier=entry_tier, definition=coupon(program, "stopped"), on_enrolment=True)
    tier_benefit_coupon_update(benefit=stopped, is_active=False)
    tier_benefit_coupon_create(tier=entry_tier, definition=coupon(program, "welcome"), on_enrolment=True)

    # when
    account = enrolled_account()

    # then
    assert vouchers(account) == ["welcome"]
    assert list(TierBenefitGrant.objects.values_list("benefit__definition__code", "outcome")) == [("welcome", "issued")]


def test_an_inactive_benefit_gives_nothing_on_upgrade_and_switched_on_again_gives_from_the_next_occasion(
    program, gold, enrolled_account
):
    # given
    benefit = tier_benefit_coupon_create(tier=gold, definition=coupon(program, "gold-welcome"), is_active=False)
    first = enrolled_account()

    # when
    change = upgrade(first)

    # then
    assert change.to_tier == gold
    assert vouchers(first) == []
    assert not TierBenefitGrant.objects.exists()
    assert not Voucher.objects.exists()

    # when: switched on again, then another member's upgrade
    tier_benefit_coupon_update(benefit=benefit, is_active=True)
    second = enrolled_account()
    upgrade(second)

    # then: the first member's past upgrade stays without it
    assert vouchers(first) == []
    assert vouchers(second) == ["gold-welcome"]
    assert TierBenefitGrant.objects.get().account == second


def test_switching_a_benefit_off_keeps_its_grants(program, gold, enrolled_account):
    # given
    benefit = tier_benefit_coupon_create(tier=gold, definition=coupon(program, "gold-welcome"))
    account = enrolled_account()
    upgrade(account)

    # when
    updated = tier_benefit_coupon_update(benefit=benefit, is_active=False)

    # then
    assert updated.is_active is False
    assert TierBenefitCoupon.objects.get().is_active is False
    assert list(TierBenefitGrant.objects.values_list("account", "outcome")) == [(account.pk, "issued")]
    assert vouchers(account) == ["gold-welcome"]


@pytest.mark.parametrize(
    ("validity_days", "message"),
    [
        (3661, "Ensure this value is less than or equal to 3660."),
        (2_147_483_647, "Ensure this value is less than or equal to 3660."),
        (0, "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_validity_out_of_range_is_refused_naming_the_field_and_writes_nothing(
    program, entry_tier, validity_days, message
):
    # given
    welcome = coupon(program, "welcome")
    benefit = tier_benefit_coupon_create(tier=entry_tier, definition=welcome, on_enrolment=True, validity_days=30)

    # when
    with pytest.raises(ValidationError) as on_create:
        tier_benefit_coupon_create(
            tier=entry_tier, definition=coupon(program, "other"), on_enrolment=True, validity_days=validity_days
        )
    with pytest.raises(ValidationError) as on_update:
        tier_benefit_coupon_update(benefit=benefit, validity_days=validity_days)

    # then
    assert on_create.value.message_dict == {"validity_days": [message]}
    assert on_update.value.message_dict == {"validity_days": [message]}
    assert list(TierBenefitCoupon.objects.values_list("definition__code", "validity_days")) == [("welcome", 30)]


def test_the_database_refuses_a_validity_beyond_ten_years(program, entry_tier):
    # given
    benefit = tier_benefit_coupon_create(tier=entry_tier, definition=coupon(program, "welcome"), on_enrolment=True)

    # when
    with pytest.raises(IntegrityError), transaction.atomic():
        TierBenefitCoupon.objects.filter(pk=benefit.pk).update(validity_days=3_000_000)

    # then
    benefit.refresh_from_db()
    assert benefit.validity_days is None


def test_a_ten_year_validity_is_given_on_enrolment(program, entry_tier, enrolled_account):
    # given
    tier_benefit_coupon_create(
        tier=entry_tier, definition=coupon(program, "welcome"), on_enrolment=True, validity_days=3660
    )

    # when
    account = enrolled_account()

    # then
    [voucher] = Voucher.objects.filter(customer=account.customer)
    assert voucher.expires_at - voucher.issued_at == timedelta(days=3660)
    assert TierBenefitGrant.objects.get(account=account).outcome == "issued"
