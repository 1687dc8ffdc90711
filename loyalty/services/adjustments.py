"""Points adjusted on several accounts at once, as the back office's "Adjust points" action does: all or nothing."""

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from core.exceptions import ApplicationError
from loyalty.models import LoyaltyAccount
from loyalty.services.points import points_adjust_by_admin


@transaction.atomic
def points_adjust_accounts_by_admin(*, accounts: Sequence[LoyaltyAccount], points: int, user: Any, note: str) -> None:
    """Adjust every account by `points` through points_adjust_by_admin, in primary-key order (the accounts' lock
    order). All or nothing: the first account that refuses (not enough points to take away) raises its
    ApplicationError with the account's number added as extra["account_number"], and the accounts adjusted before
    it roll back with it. Each account stays locked until the whole adjustment commits, so keep `accounts` short."""
    for account in sorted(accounts, key=lambda account: account.pk):
        try:
            points_adjust_by_admin(account=account, points=points, user=user, note=note)
        except ApplicationError as error:
            error.extra = {**error.extra, "account_number": account.account_number}
            raise
