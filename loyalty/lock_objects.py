"""Row locks of the loyalty domain, each a queryset to be read inside the caller's transaction.

Coupons are always locked in this order, so that two services cannot deadlock: a voucher row, then its definition
row (loyalty/services/vouchers.py and coupon_redemptions.py say which of them each operation takes).
"""

from django.db.models import QuerySet

from loyalty.models import CouponDefinition, LoyaltyAccount, Voucher


def account_qs_select_for_update() -> QuerySet[LoyaltyAccount]:
    """Accounts locked for the rest of the transaction, ordered by pk so that two transactions locking several
    accounts always lock them in the same order and cannot deadlock. SQLite serialises writers anyway."""
    return LoyaltyAccount.objects.select_for_update().order_by("pk")


def voucher_qs_select_for_update() -> QuerySet[Voucher]:
    """Vouchers locked, with their definition, customer and store read along (not locked)."""
    return Voucher.objects.select_for_update(of=("self",)).select_related("definition", "customer", "redeemed_store")


def coupon_definition_qs_select_for_update() -> QuerySet[CouponDefinition]:
    return CouponDefinition.objects.select_for_update()
