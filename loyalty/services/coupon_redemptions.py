"""Redeeming vouchers in a purchase, and the dry run that answers whether a code would apply to a cart (validate).
A code is a voucher's, or an auto-apply coupon's own code: that one is redeemed for a customer by issuing them a
voucher and redeeming it at once.

Locks (in the order of loyalty/lock_objects.py: a voucher, then its definition):
- Redeeming a voucher already the customer's (or anonymously) locks only the voucher: two tills redeeming it at
  once queue on that row and the second sees it redeemed. Limits are not re-counted under a lock there: issuing
  and claiming already capped the customer's live vouchers.
- Redeeming an anonymous code for a customer binds it to them, as claiming does: it locks the voucher, then the
  definition (when the coupon has a per-customer limit), and counts the customer's vouchers under that lock: of
  two tills redeeming two anonymous codes for one customer with one use left, one binds its code and the other
  finds it counted.
- Redeeming an auto-apply coupon by its own code (no voucher held) locks the definition, as issuing does, then
  issues the customer a voucher and redeems it: two tills at once queue on the definition row, and the second
  counts the first one's voucher against the limits and finds a retry of its transaction (or, from another
  customer, a replay it refuses).

A redemption is idempotent on its transaction id: the same voucher, transaction and customer again is a till
retrying, answered with the first redemption, provided it names the same store and its cart would give the same
discount; otherwise it is ERR_TX_ALREADY_EXISTS, as a checkout with different content is. The discount, not the
cart itself, is compared: it is what the receipt shows and the redemption recorded, it does not depend on how a
till orders or splits its lines, and a retry may come through the other API (a cart there, only the amount here).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer, Store
from crm.services.stores import store_get_or_create
from loyalty.coupon_codes import code_normalise
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.lock_objects import coupon_definition_qs_select_for_update, voucher_qs_select_for_update
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Voucher
from loyalty.rules.coupons import (
    ITEM_NOT_IN_BASKET,
    CartLine,
    basket_total,
    coupon_discount,
    coupon_failures,
)
from loyalty.selectors.coupons import LIVE, coupon_terms
from loyalty.services.vouchers import (
    coupon_already_redeemed_error,
    coupon_not_eligible_error,
    coupon_not_found_error,
    voucher_insert,
    voucher_usable_check,
)
from loyalty.webhook_emitters import coupon_issued_event, coupon_redeemed_event

Status = Voucher.Status
OTHER_CUSTOMER = "other_customer"
# An auto-apply coupon's code names no voucher: it is redeemed for a customer, who must be given.
CUSTOMER_REQUIRED = "customer_required"
# The code of a voucher issued by redeeming an auto-apply coupon by its coupon code starts with this, e.g.
# AUTO-GOLD-7KQ4-M2XR-P9TA-CE3H for a pattern "GOLD-{code}". Voucher.origin (AUTO_APPLY) is what says how a voucher
# was issued; the prefix stays because receipts, integrators (docs/loyalty-api.md) and migration 0010 know it.
AUTO_APPLIED_CODE_PREFIX = "AUTO-"


@dataclass(frozen=True)
class VoucherValidation:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    discount: Decimal | None = None


def _customer_tier(customer: Customer | None, program: Program) -> str | None:
    if customer is None:
        return None
    account = LoyaltyAccount.objects.filter(customer=customer, program=program).select_related("tier").first()
    return account.tier.code if account is not None and account.tier is not None else None


def _check(
    voucher: Voucher, *, customer: Customer | None, channel: str, lines: Sequence[CartLine], now: datetime
) -> VoucherValidation:
    definition = voucher.definition
    terms = coupon_terms(definition)
    customer_uses = 0
    if customer is not None:
        # Redeeming an anonymous code binds it to the customer, as claiming it would: the vouchers they hold count
        # too. A voucher already theirs was counted when it was issued or claimed to them.
        used = (Status.REDEEMED,) if voucher.customer_id is not None else LIVE
        customer_uses = (
            Voucher.objects.filter(definition=definition, customer=customer, status__in=used)
            .exclude(pk=voucher.pk)
            .count()
        )
    total_uses = Voucher.objects.filter(definition=definition, status=Status.REDEEMED).exclude(pk=voucher.pk).count()
    reasons = coupon_failures(
        terms,
        tier=_customer_tier(customer, definition.program),
        channel=channel,
        now=now,
        basket=basket_total(lines),
        customer_uses=customer_uses,
        total_uses=total_uses,
    )
    if voucher.customer_id is not None and (customer is None or voucher.customer_id != customer.pk):
        reasons.insert(0, OTHER_CUSTOMER)
    discount = coupon_discount(terms, lines)
    if discount is None:
        reasons.append(ITEM_NOT_IN_BASKET)
    return VoucherValidation(eligible=not reasons, reasons=reasons, discount=None if reasons else discount)


def voucher_validate(
    *,
    code: str,
    customer: Customer | None,
    channel: str,
    lines: Sequence[CartLine],
    now: datetime | None = None,
) -> VoucherValidation:
    """Would the voucher apply to this cart, and with what discount? Writes nothing and locks nothing.

    The code is a voucher's, or else an auto-apply coupon's own code, which Scan & Go devices and shopper sessions
    offer to customers holding no voucher of it: that is answered for the voucher voucher_redeem would issue the
    customer (auto_apply_redemption_check), and without a customer it is CUSTOMER_REQUIRED.

    Raises COUPON_NOT_FOUND, COUPON_ALREADY_REDEEMED, COUPON_CANCELLED, COUPON_EXPIRED; every other refusal is
    a reason in the answer (see loyalty/rules/coupons.py, OTHER_CUSTOMER and CUSTOMER_REQUIRED).
    """
    now = now or timezone.now()
    voucher = Voucher.objects.select_related("definition__program").filter(normalised_code=code_normalise(code)).first()
    if voucher is None:
        definition = _auto_apply_definition_for(code, customer)
        if customer is None or definition is None:
            return VoucherValidation(eligible=False, reasons=[CUSTOMER_REQUIRED])
        return auto_apply_redemption_check(definition, customer=customer, channel=channel, lines=lines, now=now)
    voucher_usable_check(voucher, now=now)
    return _check(voucher, customer=customer, channel=channel, lines=lines, now=now)


@transaction.atomic
def voucher_redeem(
    *,
    code: str,
    transaction_id: str,
    customer: Customer | None,
    channel: str,
    lines: Sequence[CartLine],
    store_code: str | None = None,
    now: datetime | None = None,
) -> Voucher:
    """Redeem the voucher in a purchase at the store `store_code` (optional), once. Locks the voucher row, so that
    of two tills redeeming it at the same moment one succeeds and the other gets COUPON_ALREADY_REDEEMED; an
    anonymous voucher redeemed for a customer locks its definition too when the coupon has a per-customer limit, and
    counts the vouchers the customer holds or used (customer_limit_reached), as claiming it would. Redeeming it
    again with the same transaction id and the same customer (or again none) returns the first redemption unchanged
    (a till retrying) when the store and the discount are the same, and raises ERR_TX_ALREADY_EXISTS when not; the
    same transaction id from another customer is COUPON_ALREADY_REDEEMED. Emits coupon.redeemed.

    A store not seen before is recorded (store_get_or_create) in this transaction, so a refused redemption records
    none. Whether the caller may act for the store is the caller's to check (crm.selectors.api_client_store_check).

    A code that is no voucher's but an auto-apply coupon's own code is redeemed for the customer by
    auto_apply_coupon_redeem (a new voucher, issued and redeemed at once); without a customer it is
    COUPON_NOT_ELIGIBLE with the reason CUSTOMER_REQUIRED. Voucher codes are looked up first.

    Raises COUPON_NOT_FOUND, COUPON_ALREADY_REDEEMED, COUPON_CANCELLED, COUPON_EXPIRED, ERR_TX_ALREADY_EXISTS and
    COUPON_NOT_ELIGIBLE (with the reasons in extra["reasons"]). Nothing is written when it raises.
    """
    now = now or timezone.now()
    # The store before any coupon row is locked: the lock order of docs/architecture.md.
    store = store_get_or_create(code=store_code) if store_code else None
    voucher = voucher_qs_select_for_update().filter(normalised_code=code_normalise(code)).first()
    if voucher is None:
        definition = _auto_apply_definition_for(code, customer)
        if customer is None or definition is None:
            raise coupon_not_eligible_error([CUSTOMER_REQUIRED])
        return auto_apply_coupon_redeem(
            definition=definition,
            transaction_id=transaction_id,
            customer=customer,
            channel=channel,
            lines=lines,
            store=store,
            now=now,
        )
    customer_pk = customer.pk if customer is not None else None
    if (
        voucher.status == Status.REDEEMED
        and voucher.redeemed_transaction_id == transaction_id
        and voucher.customer_id == customer_pk
    ):
        _refuse_changed_retry(voucher, definition=voucher.definition, store=store, lines=lines)
        return voucher
    voucher_usable_check(voucher, now=now)
    if voucher.customer_id is None and customer is not None and voucher.definition.limit_per_customer is not None:
        # The limit was read without the lock: one set by an edit committing meanwhile applies from the next
        # redemption on, as coupon_definition_update promises, and anonymous codes of a coupon without one are
        # not serialised on its row.
        voucher.definition = (
            coupon_definition_qs_select_for_update().select_related("program").get(pk=voucher.definition_id)
        )
    result = _check(voucher, customer=customer, channel=channel, lines=lines, now=now)
    if not result.eligible:
        raise coupon_not_eligible_error(result.reasons)
    if voucher.customer_id is None and customer is not None:
        voucher.customer = customer
    _mark_redeemed(voucher, transaction_id=transaction_id, store=store, discount=result.discount, now=now)
    return voucher


def _refuse_changed_retry(
    voucher: Voucher, *, definition: CouponDefinition, store: Store | None, lines: Sequence[CartLine]
) -> None:
    """Raise ERR_TX_ALREADY_EXISTS unless redeeming the voucher again in its transaction, for its customer, is a
    retry: the same store, and a cart that would give the discount recorded (see the module docstring). A coupon's
    discount cannot change once one of its vouchers is redeemed, so the two are comparable."""
    transaction_id = voucher.redeemed_transaction_id
    recorded = {
        "field": "transaction_id",
        "discount": None if voucher.redemption_amount is None else f"{voucher.redemption_amount:.2f}",
    }
    if voucher.redeemed_store_id != (store.pk if store is not None else None):
        raise ApplicationError(
            _("Transaction %(transaction_id)s already redeemed this coupon at another store.")
            % {"transaction_id": transaction_id},
            code=LoyaltyErrorCode.TX_ALREADY_EXISTS,
            status=409,
            extra=recorded,
        )
    discount = coupon_discount(coupon_terms(definition), lines)
    if voucher.redemption_amount is not None and discount != voucher.redemption_amount:
        raise ApplicationError(
            _(
                "Transaction %(transaction_id)s already redeemed this coupon for %(discount)s; "
                "this cart would give another discount."
            )
            % {"transaction_id": transaction_id, "discount": recorded["discount"]},
            code=LoyaltyErrorCode.TX_ALREADY_EXISTS,
            status=409,
            extra=recorded,
        )


def _mark_redeemed(
    voucher: Voucher, *, transaction_id: str, store: Store | None, discount: Decimal | None, now: datetime
) -> None:
    voucher.status = Status.REDEEMED
    voucher.redeemed_at = now
    voucher.redeemed_transaction_id = transaction_id
    voucher.redeemed_store = store
    voucher.redemption_amount = discount
    voucher.full_clean(validate_unique=False)
    voucher.save()
    coupon_redeemed_event(voucher)


# Auto-apply coupons redeemed by their coupon code ------------------------------------------------------------------


def _auto_apply_definition_for(code: str, customer: Customer | None) -> CouponDefinition | None:
    """The auto-apply coupon whose own code this is, in a program the customer has an account in (the default
    program first, should two of them have it). Without a customer: None when some program has such a coupon,
    since it names someone's coupon but not whose. Raises COUPON_NOT_FOUND otherwise, also for the code of a
    coupon that is not auto-apply: that one is used through the vouchers issued of it."""
    definitions = CouponDefinition.objects.filter(code=code.strip(), auto_apply=True)
    if customer is None:
        if definitions.exists():
            return None
        raise coupon_not_found_error()
    definition = (
        definitions.filter(program__accounts__customer=customer)
        .select_related("program")
        .order_by("-program__is_default", "pk")
        .first()
    )
    if definition is None:
        raise coupon_not_found_error()
    return definition


def auto_apply_redemption_check(
    definition: CouponDefinition, *, customer: Customer, channel: str, lines: Sequence[CartLine], now: datetime
) -> VoucherValidation:
    """Would a voucher of the auto-apply coupon, issued to the customer now, apply to this cart? As _check, except
    for the limits: the voucher would be a new one, so every live voucher of the coupon (issued, claimed or
    redeemed) holds a place, as when issuing. Reads only; auto_apply_coupon_redeem calls it under the lock."""
    terms = coupon_terms(definition)
    counts = Voucher.objects.filter(definition=definition, status__in=LIVE).aggregate(
        total=Count("pk"), mine=Count("pk", filter=Q(customer=customer))
    )
    reasons = coupon_failures(
        terms,
        tier=_customer_tier(customer, definition.program),
        channel=channel,
        now=now,
        basket=basket_total(lines),
        customer_uses=counts["mine"],
        total_uses=counts["total"],
    )
    discount = coupon_discount(terms, lines)
    if discount is None:
        reasons.append(ITEM_NOT_IN_BASKET)
    return VoucherValidation(eligible=not reasons, reasons=reasons, discount=None if reasons else discount)


@transaction.atomic
def auto_apply_coupon_redeem(
    *,
    definition: CouponDefinition,
    transaction_id: str,
    customer: Customer,
    channel: str,
    lines: Sequence[CartLine],
    store: Store | None = None,
    now: datetime | None = None,
) -> Voucher:
    """Redeem an auto-apply coupon for a customer who holds no voucher of it: issue them one (its code starts with
    AUTO_APPLIED_CODE_PREFIX) and redeem it in the purchase, in one transaction. Emits coupon.issued, then
    coupon.redeemed.

    Locks the definition row first, as voucher_issue does, so that the limits are counted and the voucher inserted
    in one step: of two tills redeeming it for a customer with one use left, one succeeds and the other is refused
    customer_limit_reached. A voucher of the coupon already redeemed in this transaction is looked for after the
    lock (so that a retry racing the first attempt finds it), by coupon and transaction id (the partial index
    voucher_redeemed_transaction): the same customer's is returned unchanged and nothing is issued (a till
    retrying) when the store and the discount are the same, ERR_TX_ALREADY_EXISTS when not; another customer's
    (or an anonymous one's) is COUPON_ALREADY_REDEEMED, as for a voucher code.

    Raises COUPON_ALREADY_REDEEMED, ERR_TX_ALREADY_EXISTS, and COUPON_NOT_ELIGIBLE with the reasons of
    auto_apply_redemption_check.
    Nothing is written when it raises.
    """
    now = now or timezone.now()
    definition = coupon_definition_qs_select_for_update().select_related("program").get(pk=definition.pk)
    # One redemption per coupon and transaction is what a receipt shows; .first() in case older data has more.
    earlier = (
        Voucher.objects.filter(definition=definition, status=Status.REDEEMED, redeemed_transaction_id=transaction_id)
        .select_related("definition__program", "customer", "redeemed_store")
        .order_by("pk")
        .first()
    )
    if earlier is not None:
        if earlier.customer_id != customer.pk:
            raise coupon_already_redeemed_error()
        _refuse_changed_retry(earlier, definition=definition, store=store, lines=lines)
        return earlier
    result = auto_apply_redemption_check(definition, customer=customer, channel=channel, lines=lines, now=now)
    if not result.eligible:
        raise coupon_not_eligible_error(result.reasons)
    voucher = voucher_insert(
        definition,
        code_prefix=AUTO_APPLIED_CODE_PREFIX,
        customer=customer,
        status=Status.ISSUED,
        origin=Voucher.Origin.AUTO_APPLY,
        issued_at=now,
        expires_at=definition.valid_until,
    )
    coupon_issued_event(voucher)
    _mark_redeemed(voucher, transaction_id=transaction_id, store=store, discount=result.discount, now=now)
    return voucher
