"""Row locks of the loyalty domain, each a queryset to be read inside the caller's transaction.

A transaction that takes several of them takes them in the order of docs/architecture.md ("Lock order"): accounts by
pk, then a voucher batch, a tier benefit or a voucher, then the coupon definition. Cards are locked alone.
"""

from django.db.models import QuerySet

from loyalty.models import Card, CouponDefinition, LoyaltyAccount, TierBenefitCoupon, Voucher, VoucherBatch


def account_qs_select_for_update() -> QuerySet[LoyaltyAccount]:
    """Accounts locked for the rest of the transaction, ordered by pk so that two transactions locking several
    accounts always lock them in the same order and cannot deadlock. SQLite serialises writers anyway."""
    return LoyaltyAccount.objects.select_for_update().order_by("pk")


def voucher_qs_select_for_update() -> QuerySet[Voucher]:
    """Vouchers locked, with their definition, customer and store read along (not locked)."""
    return Voucher.objects.select_for_update(of=("self",)).select_related("definition", "customer", "redeemed_store")


def coupon_definition_qs_select_for_update() -> QuerySet[CouponDefinition]:
    return CouponDefinition.objects.select_for_update()


def voucher_batch_qs_select_for_update() -> QuerySet[VoucherBatch]:
    return VoucherBatch.objects.select_for_update()


def tier_benefit_qs_select_for_update() -> QuerySet[TierBenefitCoupon]:
    return TierBenefitCoupon.objects.select_for_update()


def card_qs_select_for_update() -> QuerySet[Card]:
    """Cards locked, with their account and program read along (not locked)."""
    return Card.objects.select_for_update(of=("self",)).select_related("account__program")
