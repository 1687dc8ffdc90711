"""Tier benefits: coupons issued to a member automatically on enrolment in a tier or on an upgrade into it.

Each benefit is given at most once per occasion (the enrolment, or one TierChange): a TierBenefitGrant row with a
unique (account, benefit, occasion) records it, so calling this twice for the same occasion issues nothing the
second time. A refusal (the coupon's limits are reached, it is inactive or has ended, or it is not for the tier)
is logged and recorded as a refused grant, never raised: a member's enrolment or upgrade must not fail because a
coupon ran out.

A benefit switched off (is_active False) gives nothing and records nothing: no grant row, as if it were not
configured, so that switching it back on later gives it from the next occasion on (never retroactively).

A benefit names a coupon of the tier's program whose eligible tiers include the tier: tier_benefit_coupon_create and
_update check it when marketing configures the benefit, and coupon_definition_update refuses to drop such a tier
from the coupon. Granting checks it again (recorded as refused, "tier_not_eligible"), since a member given a voucher
they could not redeem is worse than none.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from loyalty.lock_objects import coupon_definition_qs_select_for_update, tier_benefit_qs_select_for_update
from loyalty.models import (
    CouponDefinition,
    LoyaltyAccount,
    Tier,
    TierBenefitCoupon,
    TierBenefitGrant,
    TierChange,
    Voucher,
)
from loyalty.rules.coupons import TIER, tier_is_eligible
from loyalty.selectors.coupons import coupon_terms
from loyalty.services.vouchers import voucher_issue

logger = logging.getLogger(__name__)

ENROLMENT = "enrolment"
REASONS = (TierChange.Reason.ENROLMENT, TierChange.Reason.UPGRADE)


def _coupon_is_configured_for_tier(definition: CouponDefinition, tier: Tier) -> bool:
    """Is the tier one of the coupon's eligible tiers (none: every tier)? Asked of the relation, by primary key: the
    tier's page may be changing its code in the same form. eligible_tiers is prefetched."""
    eligible = {eligible_tier.pk for eligible_tier in definition.eligible_tiers.all()}
    return not eligible or tier.pk in eligible


def _occasion(reason: str, change: TierChange | None) -> str:
    if reason == TierChange.Reason.ENROLMENT:
        return ENROLMENT
    if change is None:
        raise ValueError("An upgrade's benefits need the TierChange they are for.")
    return f"change:{change.pk}"


def _grant(
    benefit: TierBenefitCoupon, *, account: LoyaltyAccount, occasion: str, now: datetime
) -> TierBenefitGrant | None:
    if TierBenefitGrant.objects.filter(account=account, benefit=benefit, occasion=occasion).exists():
        return None
    voucher: Voucher | None = None
    refusal = ""
    expires_at = now + timedelta(days=benefit.validity_days) if benefit.validity_days else None
    definition = benefit.definition
    if expires_at is not None and definition.valid_until is not None:
        expires_at = min(expires_at, definition.valid_until)
    # The coupon rule itself (by tier code, eligible_tiers prefetched): what a redemption will check.
    if not tier_is_eligible(coupon_terms(definition), benefit.tier.code):
        refusal = TIER
    else:
        try:
            voucher = voucher_issue(
                definition=definition,
                customer=account.customer,
                expires_at=expires_at,
                origin=Voucher.Origin.TIER_BENEFIT,
                now=now,
            )
        except ApplicationError as error:
            refusal = str(error.code)
    if refusal:
        logger.info("tier benefit %s for account %s (%s) refused: %s", benefit.pk, account.pk, occasion, refusal)
    # The callers hold the account's lock (an upgrade) or have just created the account (an enrolment), so no
    # concurrent call can insert the same grant between the check above and this insert.
    return TierBenefitGrant.objects.create(
        account=account,
        benefit=benefit,
        occasion=occasion,
        outcome=TierBenefitGrant.Outcome.ISSUED if voucher else TierBenefitGrant.Outcome.REFUSED,
        voucher=voucher,
        refusal=refusal,
        created_at=now,
    )


@transaction.atomic
def tier_benefits_issue(
    *,
    account: LoyaltyAccount,
    tier_change: TierChange | None = None,
    reason: str,
    now: datetime | None = None,
) -> list[TierBenefitGrant]:
    """Issue the coupons configured for the account's tier on this occasion: enrolment (`reason` ENROLMENT, no
    change) or an upgrade (`reason` UPGRADE, with the TierChange). Renewals and downgrades give nothing, and
    inactive benefits neither (no grant). Returns the grants made now (issued or refused); benefits already given
    for the occasion are skipped."""
    if reason not in REASONS or account.tier_id is None:
        return []
    now = now or timezone.now()
    occasion = _occasion(reason, tier_change)
    tier_id = tier_change.to_tier_id if tier_change is not None else account.tier_id
    benefits = (
        TierBenefitCoupon.objects.filter(tier_id=tier_id, is_active=True)
        .select_related("definition", "tier")
        .prefetch_related("definition__eligible_tiers")
        .order_by("pk")
    )
    benefits = benefits.filter(on_enrolment=True) if occasion == ENROLMENT else benefits.filter(on_upgrade=True)
    grants = []
    for benefit in benefits:
        grant = _grant(benefit, account=account, occasion=occasion, now=now)
        if grant is not None:
            grants.append(grant)
    return grants


def tier_benefit_coupon_check(*, tier: Tier, definition: CouponDefinition) -> None:
    """Raise ValidationError (on "definition") unless the coupon is of the tier's program and eligible for the
    tier; writes nothing. A tier not saved yet is in no coupon's eligible tiers."""
    if definition.program_id != tier.program_id:
        raise ValidationError({"definition": _("Choose a coupon of the tier's program.")})
    if not _coupon_is_configured_for_tier(definition, tier):
        raise ValidationError(
            {
                "definition": _("The coupon is not for %(tier)s: add the tier to its eligible tiers first.")
                % {"tier": tier.name}
            }
        )


@transaction.atomic
def tier_benefit_coupon_create(
    *,
    tier: Tier,
    definition: CouponDefinition,
    on_enrolment: bool = False,
    on_upgrade: bool = True,
    validity_days: int | None = None,
    is_active: bool = True,
) -> TierBenefitCoupon:
    """Make the coupon a benefit of the tier. Locks the coupon definition (coupon_definition_update checks its
    benefits under the same lock). Raises ValidationError for a coupon of another program or not eligible for the
    tier, and for what the model's constraints refuse (no occasion, the same coupon twice for the tier)."""
    definition = coupon_definition_qs_select_for_update().prefetch_related("eligible_tiers").get(pk=definition.pk)
    tier_benefit_coupon_check(tier=tier, definition=definition)
    benefit = TierBenefitCoupon(
        tier=tier,
        definition=definition,
        on_enrolment=on_enrolment,
        on_upgrade=on_upgrade,
        validity_days=validity_days,
        is_active=is_active,
    )
    benefit.full_clean()
    benefit.save()
    return benefit


BENEFIT_FIELDS = frozenset({"tier", "definition", "on_enrolment", "on_upgrade", "validity_days", "is_active"})


@transaction.atomic
def tier_benefit_coupon_update(*, benefit: TierBenefitCoupon, **fields: object) -> TierBenefitCoupon:
    """Change a tier benefit (is_active False stops it); the grants already made stay. Same checks and lock as
    tier_benefit_coupon_create."""
    unknown = set(fields) - BENEFIT_FIELDS
    if unknown:
        raise ValidationError({name: _("There is no such tier benefit field.") for name in sorted(unknown)})
    benefit = tier_benefit_qs_select_for_update().get(pk=benefit.pk)
    for name, value in fields.items():
        setattr(benefit, name, value)
    definition = (
        coupon_definition_qs_select_for_update().prefetch_related("eligible_tiers").get(pk=benefit.definition_id)
    )
    tier_benefit_coupon_check(tier=benefit.tier, definition=definition)
    benefit.full_clean()
    benefit.save()
    return benefit
