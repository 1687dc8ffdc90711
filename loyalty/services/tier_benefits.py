"""Tier benefits: coupons issued to a member automatically on enrolment in a tier or on an upgrade into it.

Each benefit is given at most once per occasion (the enrolment, or one TierChange): a TierBenefitGrant row with a
unique (account, benefit, occasion) records it, so calling this twice for the same occasion issues nothing the
second time. A refusal (the coupon's limits are reached, it is inactive or has ended) is logged and recorded as a
refused grant, never raised: a member's enrolment or upgrade must not fail because a coupon ran out.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from loyalty.models import LoyaltyAccount, TierBenefitCoupon, TierBenefitGrant, TierChange, Voucher
from loyalty.services.coupons import voucher_issue

logger = logging.getLogger(__name__)

ENROLMENT = "enrolment"
REASONS = (TierChange.Reason.ENROLMENT, TierChange.Reason.UPGRADE)


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
    try:
        voucher = voucher_issue(definition=definition, customer=account.customer, expires_at=expires_at, now=now)
    except ApplicationError as error:
        refusal = str(error.code)
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
    change) or an upgrade (`reason` UPGRADE, with the TierChange). Renewals and downgrades give nothing. Returns
    the grants made now (issued or refused); benefits already given for the occasion are skipped."""
    if reason not in REASONS or account.tier_id is None:
        return []
    now = now or timezone.now()
    occasion = _occasion(reason, tier_change)
    tier_id = tier_change.to_tier_id if tier_change is not None else account.tier_id
    benefits = TierBenefitCoupon.objects.filter(tier_id=tier_id).select_related("definition").order_by("pk")
    benefits = benefits.filter(on_enrolment=True) if occasion == ENROLMENT else benefits.filter(on_upgrade=True)
    grants = []
    for benefit in benefits:
        grant = _grant(benefit, account=account, occasion=occasion, now=now)
        if grant is not None:
            grants.append(grant)
    return grants
