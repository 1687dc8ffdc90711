"""Checkouts, their acceptance or rejection, and refunds: the points they earn, burn, take back and give back."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Store
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase
from loyalty.rules.earning import EarnResult, EarnRule, PurchaseLine, points_for_purchase, share_of_points
from loyalty.services.ledger import (
    EntrySource,
    account_lock,
    pending_of_purchase,
    points_add_pending,
    points_burn_reserved,
    points_cancel_pending,
    points_confirm_pending,
    points_credit,
    points_debit,
    points_release,
    reserved_for,
)
from loyalty.services.membership import loyalty_account_ensure_enrolled
from loyalty.services.tiers import tier_recalculate
from loyalty.webhook_emitters import points_changed_since, purchase_accepted_event, purchase_refunded_event

Kind = PointsEntry.Kind


def request_fingerprint(payload: Any) -> str:
    """A stable hash of a request body: the same JSON in any key order gives the same fingerprint."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def earn_rule_for(account: LoyaltyAccount) -> EarnRule:
    program = account.program
    return EarnRule(
        rate=program.earn_rate,
        rounding=program.earn_rounding,
        basis=program.earn_basis,
        excluded_products=frozenset(str(product) for product in program.excluded_products),
        multiplier=account.tier.earn_multiplier if account.tier else Decimal("1"),
    )


def points_preview(*, account: LoyaltyAccount, total: Decimal, lines: list[PurchaseLine]) -> EarnResult:
    """What a cart would earn now, for display. Writes nothing."""
    return points_for_purchase(total=total, lines=lines, rule=earn_rule_for(account))


def points_expiry_for(program: Program, now: datetime) -> datetime | None:
    return None if program.points_expiry_days is None else now + timedelta(days=program.points_expiry_days)


@dataclass(frozen=True)
class CheckoutResult:
    purchase: Purchase
    created: bool
    # What a new checkout did to the spendable points, oldest first: its burns, the points its reservation gave
    # back and the lot it earned (settlements of owed points leave the balance as it was and are not among them).
    # Empty when the purchase was recorded before.
    spendable_changes: list[PointsEntry] = field(default_factory=list)


def _existing_checkout(program: Program, transaction_id: str, fingerprint: str) -> Purchase | None:
    existing = Purchase.objects.filter(program=program, transaction_id=transaction_id).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise ApplicationError(
            _("Transaction %(transaction_id)s already exists with different content.")
            % {"transaction_id": transaction_id},
            code=LoyaltyErrorCode.TX_ALREADY_EXISTS,
            status=409,
            extra={"field": "transaction_id"},
        )
    return existing


@transaction.atomic
def purchase_checkout(
    *,
    account: LoyaltyAccount,
    transaction_id: str,
    total: Decimal,
    lines: list[PurchaseLine],
    items: list[dict[str, Any]],
    points_burned: int,
    fingerprint: str,
    purchased_at: datetime | None = None,
    store: Store | None = None,
    channel: str = "",
    currency: str = "",
) -> CheckoutResult:
    """Record a checkout: burn `points_burned` (from a reservation for this transaction first), and earn points,
    pending for the program's return window or spendable at once.

    The transaction id makes it idempotent: the same request again returns the first purchase with
    created=False; different content under the same id raises ERR_TX_ALREADY_EXISTS (409). Raises
    INSUFFICIENT_POINTS (409) when the burn is not covered; nothing is written then.
    """
    existing = _existing_checkout(account.program, transaction_id, fingerprint)
    if existing is not None:
        return CheckoutResult(purchase=existing, created=False)
    return purchase_checkout_new(
        account=account_lock(account),
        transaction_id=transaction_id,
        total=total,
        lines=lines,
        items=items,
        points_burned=points_burned,
        fingerprint=fingerprint,
        purchased_at=purchased_at,
        store=store,
        channel=channel,
        currency=currency,
    )


# No savepoint of its own (two statements saved per checkout): an error must roll back the caller's transaction.
@transaction.atomic(savepoint=False)
def purchase_checkout_new(
    *,
    account: LoyaltyAccount,
    transaction_id: str,
    total: Decimal,
    lines: list[PurchaseLine],
    items: list[dict[str, Any]],
    points_burned: int,
    fingerprint: str,
    purchased_at: datetime | None = None,
    store: Store | None = None,
    channel: str = "",
    currency: str = "",
) -> CheckoutResult:
    """purchase_checkout for a caller that took its first two steps itself, in the transaction it calls this in:
    it looked the transaction id up and found nothing, and it holds `account` locked (account_lock, or a locked
    read of its own) and fresh. The events API does, to read the account once and a bulk's transaction ids at once.

    An error rolls back the caller's whole transaction (this runs without a savepoint). The same transaction id
    committed meanwhile by another till is still caught, by the unique constraint: that purchase comes back with
    created=False, or ERR_TX_ALREADY_EXISTS (409) for different content.
    """
    program = account.program
    loyalty_account_ensure_enrolled(account)
    balance_before = account.points_balance
    now = timezone.now()
    earned = points_for_purchase(total=total, lines=lines, rule=earn_rule_for(account))
    pending = program.pending_days > 0
    purchase = Purchase(
        program=program,
        account=account,
        transaction_id=transaction_id,
        store=store,
        channel=channel,
        currency=currency or program.currency,
        total=total,
        eligible_total=earned.eligible_total,
        items=items,
        points_base=earned.base,
        points_bonus=earned.bonus,
        points_earned=earned.total,
        points_burned=points_burned,
        state=Purchase.State.PENDING if pending else Purchase.State.ACCEPTED,
        purchased_at=purchased_at or now,
        confirm_at=(purchased_at or now) + timedelta(days=program.pending_days) if pending else None,
        request_fingerprint=fingerprint,
    )
    # Field checks only: the transaction id was looked up just before and the check constraints hold by
    # construction (the API refuses negative totals and burns); the database enforces both regardless.
    purchase.full_clean(
        exclude=["account", "program", "store", "first_response"], validate_unique=False, validate_constraints=False
    )
    try:
        with transaction.atomic():
            purchase.save()
    except IntegrityError:
        # The same transaction id from another till at the same moment: the first one wins.
        return CheckoutResult(purchase=_existing_checkout(program, transaction_id, fingerprint), created=False)  # type: ignore[arg-type]
    origin = EntrySource(source="purchase", purchase=purchase, note=f"Checkout {transaction_id}")
    changes: list[PointsEntry] = []
    if points_burned:
        from_reservation = 0
        if reserved_for(account, transaction_id):  # most burns have no reservation: one query instead of two
            from_reservation = points_burn_reserved(
                account=account, transaction_id=transaction_id, points=points_burned, origin=origin
            )
            changes += points_release(account=account, transaction_id=transaction_id, origin=origin)
        if points_burned > from_reservation:
            changes += points_debit(
                account=account, points=points_burned - from_reservation, kind=Kind.BURN, origin=origin
            )
    if earned.total:
        if pending:
            points_add_pending(account=account, points=earned.total, origin=origin)
        else:
            changes.append(
                points_credit(
                    account=account, points=earned.total, kind=Kind.EARN, origin=origin,
                    expires_at=points_expiry_for(program, now),
                )
            )  # fmt: skip
    if not pending:
        tier_recalculate(account=account, now=now)
    points_changed_since(
        account,
        balance_before=balance_before,
        pending_moved=earned.total if pending else 0,
        kind=Kind.EARN if earned.total else Kind.BURN,
        reference=transaction_id,
    )
    if not pending:
        purchase_accepted_event(purchase)
    spendable_changes = [entry for entry in changes if entry.bucket == PointsEntry.Bucket.SPENDABLE]
    return CheckoutResult(
        purchase=purchase, created=True, spendable_changes=sorted(spendable_changes, key=lambda entry: entry.pk)
    )


def purchase_first_response_store(*, purchase: Purchase, response: dict[str, Any]) -> Purchase:
    """Keep the answer given to a checkout, so that a replay of the same checkout gets exactly that answer. Call it
    in the checkout's own transaction: a replay then never finds the purchase without its response."""
    Purchase.objects.filter(pk=purchase.pk).update(first_response=response)
    purchase.first_response = response
    return purchase


def _locked_purchase(purchase: Purchase) -> tuple[LoyaltyAccount, Purchase]:
    account = account_lock(purchase.account)
    return account, Purchase.objects.get(pk=purchase.pk)


@transaction.atomic
def purchase_accept(*, purchase: Purchase, now: datetime | None = None) -> Purchase:
    """Confirm a purchase's pending points: they become a spendable lot. Used by checkout_accept and, when the
    return window closes, by the beat job. Accepting an accepted purchase is a no-op."""
    account, purchase = _locked_purchase(purchase)
    if purchase.state == Purchase.State.REJECTED:
        raise _wrong_state(purchase, "accepted")
    now = now or timezone.now()
    balance_before = account.points_balance
    origin = EntrySource(source="purchase", note=f"Checkout {purchase.transaction_id} accepted")
    confirmed = points_confirm_pending(
        account=account, purchase=purchase, expires_at=points_expiry_for(purchase.program, now), origin=origin
    )
    newly_accepted = purchase.state == Purchase.State.PENDING
    if newly_accepted:
        purchase.state = Purchase.State.ACCEPTED
    purchase.confirm_at = None
    purchase.save(update_fields=["state", "confirm_at", "updated_at"])
    tier_recalculate(account=account, now=now)
    points_changed_since(
        account, balance_before=balance_before, pending_moved=confirmed, kind=Kind.EARN,
        reference=purchase.transaction_id,
    )  # fmt: skip
    if newly_accepted:
        purchase_accepted_event(purchase)
    return purchase


@transaction.atomic
def purchase_reject(*, purchase: Purchase) -> Purchase:
    """Reject a pending purchase: its pending points are cancelled and the points it burned are given back. It no
    longer waits for the return window to close."""
    account, purchase = _locked_purchase(purchase)
    if purchase.state == Purchase.State.REJECTED:
        return purchase
    if purchase.state != Purchase.State.PENDING:
        raise _wrong_state(purchase, "rejected")
    balance_before = account.points_balance
    origin = EntrySource(source="purchase", purchase=purchase, note=f"Checkout {purchase.transaction_id} rejected")
    cancelled = points_cancel_pending(account=account, purchase=purchase, points=purchase.points_earned, origin=origin)
    _give_back_burned(account, purchase, purchase.points_burned - purchase.points_returned, origin)
    purchase.state = Purchase.State.REJECTED
    purchase.confirm_at = None
    purchase.save(update_fields=["state", "points_returned", "confirm_at", "updated_at"])
    points_changed_since(
        account, balance_before=balance_before, pending_moved=cancelled, kind=Kind.CANCEL,
        reference=purchase.transaction_id,
    )  # fmt: skip
    return purchase


def _give_back_burned(account: LoyaltyAccount, purchase: Purchase, points: int, origin: EntrySource) -> None:
    if points > 0:
        points_credit(
            account=account, points=points, kind=Kind.REFUND, origin=origin,
            expires_at=points_expiry_for(purchase.program, timezone.now()),
        )  # fmt: skip
        purchase.points_returned += points


def _wrong_state(purchase: Purchase, wanted: str) -> ApplicationError:
    return ApplicationError(
        _("Transaction %(transaction_id)s is %(state)s and cannot be %(wanted)s.")
        % {"transaction_id": purchase.transaction_id, "state": purchase.state, "wanted": wanted},
        code=LoyaltyErrorCode.INVALID_TRANSACTION_STATE,
        status=409,
        extra={"field": "transaction_id"},
    )


@transaction.atomic
def purchase_refund(*, purchase: Purchase, amount: Decimal | None = None) -> Purchase:
    """Refund `amount` of a purchase (all of what is left when None). Takes back the points earned on that
    share of the purchase, pending or not, even if they were spent meanwhile (then the customer owes them, or
    they are forgiven, as the program says), and gives back the same share of the points it burned.

    Shares are cumulative, so refunds adding up to the total take back exactly what was earned. Raises
    REFUND_EXCEEDS_TOTAL (422) for more than is left to refund.
    """
    account, purchase = _locked_purchase(purchase)
    if purchase.state in (Purchase.State.REJECTED, Purchase.State.REFUNDED):
        if amount is None and purchase.state == Purchase.State.REFUNDED:
            return purchase
        raise _wrong_state(purchase, "refunded")
    left_to_refund = purchase.total - purchase.refunded_total
    amount = left_to_refund if amount is None else amount
    if amount <= 0 or amount > left_to_refund:
        raise ApplicationError(
            _("A refund of %(amount)s exceeds the %(left)s left to refund on this transaction.")
            % {"amount": amount, "left": left_to_refund},
            code=LoyaltyErrorCode.REFUND_EXCEEDS_TOTAL,
            status=422,
            extra={"field": "amount"},
        )
    refunded_total = purchase.refunded_total + amount
    to_take = share_of_points(points=purchase.points_earned, part=refunded_total, whole=purchase.total)
    to_take -= purchase.points_taken_back
    to_give = share_of_points(points=purchase.points_burned, part=refunded_total, whole=purchase.total)
    to_give -= purchase.points_returned
    balance_before = account.points_balance
    origin = EntrySource(source="purchase", purchase=purchase, note=f"Refund of {purchase.transaction_id}")
    # Burned points go back first, so that under the forgive policy they are taken before anything is forgiven.
    _give_back_burned(account, purchase, to_give, origin)
    taken = points_cancel_pending(account=account, purchase=purchase, points=to_take, origin=origin)
    spendable_part = to_take - taken
    if spendable_part > 0:
        if purchase.program.negative_balance_policy == Program.NegativeBalancePolicy.FORGIVE:
            available = max(account.points_balance, 0)
            forgiven = max(spendable_part - available, 0)
            purchase.points_forgiven += forgiven
            spendable_part -= forgiven
        if spendable_part > 0:
            points_debit(account=account, points=spendable_part, kind=Kind.REFUND, origin=origin, allow_debt=True)
    purchase.points_taken_back += to_take
    purchase.refunded_total = refunded_total
    fully = refunded_total >= purchase.total
    purchase.state = Purchase.State.REFUNDED if fully else Purchase.State.PARTIALLY_REFUNDED
    if pending_of_purchase(purchase) == 0:
        purchase.confirm_at = None
    purchase.save()
    points_changed_since(
        account, balance_before=balance_before, pending_moved=taken, kind=Kind.REFUND,
        reference=purchase.transaction_id,
    )  # fmt: skip
    purchase_refunded_event(purchase, amount=amount, points_taken_back=to_take)
    return purchase
