"""Points moved by events and by the back office (not by purchases): add, subtract, reserve, release, expire."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount, PointsEntry
from loyalty.services.ledger import (
    EntrySource,
    account_lock,
    points_credit,
    points_debit,
    points_expire_due,
    points_release,
    points_reserve,
)
from loyalty.services.purchases import points_expiry_for
from loyalty.services.tiers import tier_recalculate
from loyalty.webhook_emitters import points_changed_event, points_changed_since

Kind = PointsEntry.Kind


def _already_applied(account: LoyaltyAccount, idempotency_key: str) -> bool:
    return (
        bool(idempotency_key) and PointsEntry.objects.filter(account=account, idempotency_key=idempotency_key).exists()
    )


@transaction.atomic
def points_add(*, account: LoyaltyAccount, points: int, origin: EntrySource) -> LoyaltyAccount:
    """Give points (goodwill, a campaign, an admin correction). They expire like earned points and count towards
    the tier, which is upgraded at once if they reach a better one. With an idempotency key in `origin`, a second
    call with the same key changes nothing."""
    account = account_lock(account)
    if not _already_applied(account, origin.idempotency_key):
        now = timezone.now()
        lot = points_credit(
            account=account, points=points, kind=Kind.ADJUST, origin=origin,
            expires_at=points_expiry_for(account.program, now),
        )  # fmt: skip
        tier_recalculate(account=account, now=now)
        points_changed_event(account, kind=Kind.ADJUST, change=points, source=origin.source, expires_at=lot.expires_at)
    return account


@transaction.atomic
def points_subtract(*, account: LoyaltyAccount, points: int, origin: EntrySource) -> LoyaltyAccount:
    """Take points away (a correction, a points spend outside a purchase). Raises INSUFFICIENT_POINTS (409)."""
    account = account_lock(account)
    if not _already_applied(account, origin.idempotency_key):
        points_debit(account=account, points=points, kind=Kind.ADJUST, origin=origin)
        points_changed_event(account, kind=Kind.ADJUST, change=-points, source=origin.source)
    return account


@transaction.atomic
def points_adjust_by_admin(*, account: LoyaltyAccount, points: int, user: Any, note: str) -> LoyaltyAccount:
    """The back office's "adjust points": positive adds, negative subtracts, the admin user is the source."""
    if points == 0:
        raise ApplicationError(
            _("An adjustment needs a non-zero number of points."),
            code=LoyaltyErrorCode.INVALID_POINTS,
            extra={"field": "points"},
        )
    origin = EntrySource(source="admin", note=note[:200], created_by=user)
    if points > 0:
        return points_add(account=account, points=points, origin=origin)
    return points_subtract(account=account, points=-points, origin=origin)


@transaction.atomic
def points_reserve_for_transaction(
    *, account: LoyaltyAccount, transaction_id: str, points: int, origin: EntrySource
) -> LoyaltyAccount:
    """Hold points for a payment in progress; the checkout with the same transaction id spends them. With an
    idempotency key in `origin`, a second call with the same key changes nothing, even once the points held have
    been spent or released."""
    account = account_lock(account)
    if not _already_applied(account, origin.idempotency_key):
        balance_before = account.points_balance
        points_reserve(account=account, transaction_id=transaction_id, points=points, origin=origin)
        points_changed_since(
            account, balance_before=balance_before, kind=Kind.RESERVE, source=origin.source, reference=transaction_id
        )
    return account


@transaction.atomic
def points_release_for_transaction(
    *, account: LoyaltyAccount, transaction_id: str, origin: EntrySource
) -> LoyaltyAccount:
    """Give back the points held for a transaction. Releasing twice is a no-op; a release that gave points back
    keeps the idempotency key in `origin`, so that a replay of it does not release a later reservation."""
    account = account_lock(account)
    if not _already_applied(account, origin.idempotency_key):
        balance_before = account.points_balance
        points_release(account=account, transaction_id=transaction_id, origin=origin)
        points_changed_since(
            account, balance_before=balance_before, kind=Kind.RELEASE, source=origin.source, reference=transaction_id
        )
    return account


@transaction.atomic
def points_expire(*, account: LoyaltyAccount, now: datetime | None = None) -> int:
    """Expire the remainders of this account's lots past their date. Returns the points expired."""
    account = account_lock(account)
    expired = points_expire_due(account=account, now=now or timezone.now())
    if expired:
        points_changed_event(account, kind=Kind.EXPIRE, change=-expired, source="system")
    return expired
