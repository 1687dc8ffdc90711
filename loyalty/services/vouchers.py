"""Vouchers, the codes of a coupon that customers hold: issuing them (with a unique code), claiming, cancelling and
expiring them. Redeeming them is loyalty/services/coupon_redemptions.py; bulk codes are voucher_batches.py.

Locks (in the order of loyalty/lock_objects.py: a voucher, then its definition):
- Issuing locks the definition, so that counting its vouchers against the limits and inserting the new one are
  one step (two marketing jobs cannot both issue the last voucher).
- Claiming an anonymous code locks the voucher, then the definition, and counts the customer's vouchers under that
  lock: of a claim racing a redemption of another code for the same customer, one binds its code and the other
  finds it counted.
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer
from loyalty.coupon_codes import code_normalise, voucher_code_generate
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.lock_objects import coupon_definition_qs_select_for_update, voucher_qs_select_for_update
from loyalty.models import CouponDefinition, Voucher
from loyalty.rules.coupons import ENDED, INACTIVE
from loyalty.selectors.coupons import REDEEMABLE, vouchers_live_count
from loyalty.webhook_emitters import coupon_claimed_event, coupon_issued_event

Status = Voucher.Status
CODE_ATTEMPTS = 5
EXPIRY_BATCH = 1000


def coupon_not_found_error() -> ApplicationError:
    return ApplicationError(_("No such coupon code."), code=LoyaltyErrorCode.COUPON_NOT_FOUND, status=404)


def coupon_not_eligible_error(reasons: list[str]) -> ApplicationError:
    return ApplicationError(
        _("The coupon cannot be used here."),
        code=LoyaltyErrorCode.COUPON_NOT_ELIGIBLE,
        status=422,
        extra={"reasons": reasons},
    )


def coupon_already_redeemed_error() -> ApplicationError:
    return ApplicationError(
        _("The coupon was already redeemed."), code=LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, status=409
    )


def _expired() -> ApplicationError:
    return ApplicationError(_("The coupon has expired."), code=LoyaltyErrorCode.COUPON_EXPIRED, status=409)


def _limit_reached() -> ApplicationError:
    return ApplicationError(
        _("The coupon's issue limit is reached."), code=LoyaltyErrorCode.COUPON_LIMIT_REACHED, status=409
    )


def voucher_usable_check(voucher: Voucher, *, now: datetime) -> None:
    """Raise for a voucher that can no longer be claimed or redeemed: COUPON_ALREADY_REDEEMED, COUPON_CANCELLED,
    COUPON_EXPIRED."""
    if voucher.status == Status.REDEEMED:
        raise coupon_already_redeemed_error()
    if voucher.status == Status.CANCELLED:
        raise ApplicationError(_("The coupon was cancelled."), code=LoyaltyErrorCode.COUPON_CANCELLED, status=409)
    # expires_at is exclusive, like valid_until: at that instant the voucher is expired even before the job ran.
    if voucher.status == Status.EXPIRED or (voucher.expires_at is not None and voucher.expires_at <= now):
        raise _expired()


def _voucher_get_locked(code: str) -> Voucher:
    try:
        return voucher_qs_select_for_update().get(normalised_code=code_normalise(code))
    except Voucher.DoesNotExist:
        raise coupon_not_found_error() from None


def voucher_insert(definition: CouponDefinition, *, code_prefix: str = "", **fields: Any) -> Voucher:
    """Save a voucher of the definition with a new code (`code_prefix` and the definition's code pattern) and the
    given fields, trying other codes on a collision. The caller holds the definition's lock and its transaction."""
    for _attempt in range(CODE_ATTEMPTS):
        code = code_prefix + voucher_code_generate(definition.code_pattern)
        voucher = Voucher(definition=definition, code=code, normalised_code=code_normalise(code), **fields)
        voucher.full_clean(validate_unique=False, validate_constraints=True)
        try:
            # A savepoint: a (vanishingly rare) code collision must not poison the caller's transaction.
            with transaction.atomic():
                voucher.save()
        except IntegrityError:
            continue
        return voucher
    raise RuntimeError("Could not generate a unique voucher code; is the alphabet or length misconfigured?")


@transaction.atomic
def voucher_issue(
    *,
    definition: CouponDefinition,
    customer: Customer | None = None,
    expires_at: datetime | None = None,
    origin: str = Voucher.Origin.MANUAL,
    now: datetime | None = None,
) -> Voucher:
    """Issue one voucher, to the customer or as an anonymous code; it expires at `expires_at`, by default at the
    end of the definition's validity, and records `origin` (MANUAL, or TIER_BENEFIT from tier_benefits_issue).
    Locks the definition row. Emits coupon.issued for a customer's voucher.

    Raises COUPON_NOT_ELIGIBLE (inactive or ended definition) and COUPON_LIMIT_REACHED (limit_total, or
    limit_per_customer for that customer, already used by live vouchers).
    """
    now = now or timezone.now()
    definition = coupon_definition_qs_select_for_update().get(pk=definition.pk)
    reasons = []
    if not definition.is_active:
        reasons.append(INACTIVE)
    if definition.valid_until is not None and now >= definition.valid_until:
        reasons.append(ENDED)
    if reasons:
        raise coupon_not_eligible_error(reasons)
    if definition.limit_total is not None and vouchers_live_count(definition=definition) >= definition.limit_total:
        raise _limit_reached()
    if (
        customer is not None
        and definition.limit_per_customer is not None
        and vouchers_live_count(definition=definition, customer=customer) >= definition.limit_per_customer
    ):
        raise _limit_reached()
    voucher = voucher_insert(
        definition,
        customer=customer,
        status=Status.ISSUED,
        origin=origin,
        issued_at=now,
        expires_at=expires_at if expires_at is not None else definition.valid_until,
    )
    if customer is not None:
        coupon_issued_event(voucher)
    return voucher


@transaction.atomic
def voucher_claim(*, code: str, customer: Customer, now: datetime | None = None) -> Voucher:
    """The customer claims an anonymous code, or a voucher issued to them, which becomes claimed. Claiming a voucher
    one already claimed returns it unchanged. Emits coupon.claimed (Antavo voucher_claimed fields).

    Raises COUPON_NOT_FOUND (also for a voucher of another customer: codes are not confirmed to strangers),
    COUPON_ALREADY_REDEEMED, COUPON_CANCELLED, COUPON_EXPIRED (the voucher's expiry or its coupon's end has come),
    COUPON_LIMIT_REACHED (limit_per_customer).
    """
    now = now or timezone.now()
    voucher = _voucher_get_locked(code)
    if voucher.customer_id is not None and voucher.customer_id != customer.pk:
        raise coupon_not_found_error()
    voucher_usable_check(voucher, now=now)
    # A voucher without an expiry (issued before its coupon had an end) still ends with its coupon.
    valid_until = voucher.definition.valid_until
    if valid_until is not None and now >= valid_until:
        raise _expired()
    if voucher.status == Status.CLAIMED:
        return voucher
    if voucher.customer_id is None:
        definition = coupon_definition_qs_select_for_update().get(pk=voucher.definition_id)
        limit = definition.limit_per_customer
        if limit is not None and vouchers_live_count(definition=definition, customer=customer) >= limit:
            raise _limit_reached()
    voucher.customer = customer
    voucher.status = Status.CLAIMED
    voucher.claimed_at = now
    voucher.full_clean(validate_unique=False)
    voucher.save(update_fields=["customer", "status", "claimed_at", "updated_at"])
    coupon_claimed_event(voucher)
    return voucher


@transaction.atomic
def voucher_cancel(*, code: str, now: datetime | None = None) -> Voucher:
    """Cancel an issued or claimed voucher; cancelling a cancelled one returns it unchanged. No webhook: the
    catalogue has no coupon.cancelled. Raises COUPON_NOT_FOUND, COUPON_ALREADY_REDEEMED, COUPON_EXPIRED."""
    now = now or timezone.now()
    voucher = _voucher_get_locked(code)
    if voucher.status == Status.CANCELLED:
        return voucher
    voucher_usable_check(voucher, now=now)
    voucher.status = Status.CANCELLED
    voucher.cancelled_at = now
    voucher.save(update_fields=["status", "cancelled_at", "updated_at"])
    return voucher


@transaction.atomic
def vouchers_expire_due(*, now: datetime | None = None, batch_size: int = EXPIRY_BATCH) -> int:
    """Mark issued and claimed vouchers whose expires_at has come (<= now) expired, at most `batch_size` of them,
    and return how many; the beat job calls it until it returns less than a batch. The UPDATE re-checks the
    status, so a voucher redeemed meanwhile stays redeemed and running it twice expires nothing twice."""
    now = now or timezone.now()
    due = list(
        Voucher.objects.filter(status__in=REDEEMABLE, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    return Voucher.objects.filter(pk__in=due, status__in=REDEEMABLE).update(status=Status.EXPIRED, updated_at=now)
