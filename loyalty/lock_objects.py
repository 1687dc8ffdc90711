from django.db.models import QuerySet

from loyalty.models import LoyaltyAccount


def account_qs_select_for_update() -> QuerySet[LoyaltyAccount]:
    """Accounts locked for the rest of the transaction, ordered by pk so that two transactions locking several
    accounts always lock them in the same order and cannot deadlock. SQLite serialises writers anyway."""
    return LoyaltyAccount.objects.select_for_update().order_by("pk")
