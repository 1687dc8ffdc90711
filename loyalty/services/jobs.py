"""The work of the periodic jobs (loyalty/tasks.py): confirm purchases whose return window has closed, expire lots
past their date, and renew or downgrade tiers at their expiry.

Each `*_due` function takes up to `limit` due items with a primary key above `after_pk`, in pk order, and handles
each in its own transaction, so that one failing item neither stops nor rolls back the others: the failure is
logged with the item's pk and the error's code or class (never personal data) and the next run tries again. Each
item is re-checked under its account's lock, so a job that runs twice, or two runs that overlap, change nothing
the second time.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from core.exceptions import ApplicationError
from loyalty.lock_objects import account_qs_select_for_update
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase, TierChange
from loyalty.services.points import points_expire
from loyalty.services.purchases import purchase_accept
from loyalty.services.tiers import tier_evaluate_expiry

logger = logging.getLogger(__name__)

# What one item may fail with while the others go on: a business rule, a row that no longer validates, a lock
# timeout or a deadlock. Anything else is a bug and stops the run.
ITEM_ERRORS = (ApplicationError, ValidationError, DatabaseError)


@dataclass(frozen=True)
class JobBatch:
    """What one batch did. When `is_full`, more items may be due after `last_pk`."""

    selected: int
    changed: int
    failed: int
    last_pk: int
    is_full: bool


def _run_batch(job: str, pks: list[int], limit: int, step: Callable[[int], bool]) -> JobBatch:
    changed = failed = 0
    for pk in pks:
        try:
            changed += step(pk)
        except ITEM_ERRORS as error:
            failed += 1
            reason = error.code if isinstance(error, ApplicationError) else type(error).__name__
            logger.warning("%s: item %s failed (%s); the next run retries it", job, pk, reason)
    last_pk = pks[-1] if pks else 0
    return JobBatch(selected=len(pks), changed=changed, failed=failed, last_pk=last_pk, is_full=len(pks) >= limit)


# Confirming pending points -------------------------------------------------------------------------------------


def purchase_pks_due_for_confirmation(*, now: datetime, after_pk: int, limit: int) -> list[int]:
    # A rejected purchase keeps its confirm_at (purchase_reject leaves it) but has nothing left to confirm.
    due = Purchase.objects.filter(confirm_at__lte=now, pk__gt=after_pk).exclude(state=Purchase.State.REJECTED)
    return list(due.order_by("pk").values_list("pk", flat=True)[:limit])


@transaction.atomic
def purchase_confirm_if_due(*, purchase_pk: int, now: datetime) -> bool:
    """Confirm the purchase's pending points (purchase_accept) if its return window closed by `now` and nothing
    has settled it meanwhile. Locks the account first, as purchase_accept does. Returns whether it confirmed."""
    account_pk = Purchase.objects.filter(pk=purchase_pk).values_list("account_id", flat=True).get()
    account_qs_select_for_update().get(pk=account_pk)
    purchase = Purchase.objects.get(pk=purchase_pk)
    if purchase.confirm_at is None or purchase.confirm_at > now or purchase.state == Purchase.State.REJECTED:
        return False
    purchase_accept(purchase=purchase)
    return True


def purchases_confirm_due(*, now: datetime, after_pk: int = 0, limit: int) -> JobBatch:
    pks = purchase_pks_due_for_confirmation(now=now, after_pk=after_pk, limit=limit)
    return _run_batch("confirm_due_purchases", pks, limit, lambda pk: purchase_confirm_if_due(purchase_pk=pk, now=now))


# Expiring points -----------------------------------------------------------------------------------------------


def account_pks_with_points_to_expire(*, now: datetime, after_pk: int, limit: int) -> list[int]:
    """Accounts holding a lot past its expiry date with points left (what points_expire would expire)."""
    allocated = PointsEntry.objects.filter(lot=OuterRef("pk")).order_by().values("lot").annotate(total=Sum("points"))
    lots_due = (
        PointsEntry.objects.filter(is_lot=True, expires_at__lte=now)
        .annotate(remaining=F("points") + Coalesce(Subquery(allocated.values("total")), 0))
        .filter(remaining__gt=0)
    )
    # Starting from the lots lets the database use the partial index on lot expiry rather than visit every account.
    accounts = LoyaltyAccount.objects.filter(pk__gt=after_pk, pk__in=lots_due.values("account_id"))
    return list(accounts.order_by("pk").values_list("pk", flat=True)[:limit])


def account_expire_points(*, account_pk: int, now: datetime) -> bool:
    """Expire what is left of the account's lots past their date (points_expire, one transaction under the account
    lock). Returns whether anything expired."""
    account = LoyaltyAccount.objects.get(pk=account_pk)
    return points_expire(account=account, now=now) > 0


def accounts_expire_points_due(*, now: datetime, after_pk: int = 0, limit: int) -> JobBatch:
    pks = account_pks_with_points_to_expire(now=now, after_pk=after_pk, limit=limit)
    return _run_batch("expire_points", pks, limit, lambda pk: account_expire_points(account_pk=pk, now=now))


# Tier expiry ---------------------------------------------------------------------------------------------------


def account_pks_with_tier_expired(*, now: datetime, after_pk: int, limit: int) -> list[int]:
    due = LoyaltyAccount.objects.filter(tier_expires_at__lte=now, tier__isnull=False, pk__gt=after_pk)
    return list(due.order_by("pk").values_list("pk", flat=True)[:limit])


@transaction.atomic
def account_evaluate_tier_expiry(*, account_pk: int, now: datetime) -> TierChange | None:
    """Renew, upgrade or downgrade the account's tier if it expired by `now` (tier_evaluate_expiry), under the
    account lock. Returns the change, or None when the tier is not due (an earlier run already moved it)."""
    account = account_qs_select_for_update().get(pk=account_pk)
    return tier_evaluate_expiry(account=account, now=now)


def accounts_evaluate_tier_expiry_due(*, now: datetime, after_pk: int = 0, limit: int) -> JobBatch:
    pks = account_pks_with_tier_expired(now=now, after_pk=after_pk, limit=limit)
    return _run_batch(
        "evaluate_tier_expiry",
        pks,
        limit,
        lambda pk: account_evaluate_tier_expiry(account_pk=pk, now=now) is not None,
    )
