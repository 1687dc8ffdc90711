"""Coupons: definitions and the life of their vouchers (issued -> claimed -> redeemed, or expired or cancelled).

Locks, always taken in this order so that two services cannot deadlock: a voucher row, then its definition row.
- Issuing locks the definition, so that counting its vouchers against the limits and inserting the new one are
  one step (two marketing jobs cannot both issue the last voucher).
- Binding an anonymous code to a customer (claiming it, or redeeming it for them) locks the voucher, then the
  definition (a redemption only when the coupon has a per-customer limit), and counts the customer's vouchers
  under that lock: of two tills redeeming two anonymous codes for one customer with one use left (or a claim
  racing a redemption), one binds its code and the other finds it counted.
- Redeeming a voucher already the customer's (or anonymously) locks only the voucher: two tills redeeming it at
  once queue on that row and the second sees it redeemed. Limits are not re-counted under a lock there: issuing
  and claiming already capped the customer's live vouchers.
- Redeeming an auto-apply coupon by its own code (no voucher held) locks the definition, as issuing does, then
  issues the customer a voucher and redeems it: two tills at once queue on the definition row, and the second
  counts the first one's voucher against the limits and finds a retry of its transaction (or, from another
  customer, a replay it refuses).
A "use" for the limits is a voucher issued, claimed or redeemed: cancelled and expired ones free their place.

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
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer, Store
from loyalty.coupon_codes import code_normalise, voucher_code_generate
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Tier, Voucher
from loyalty.rules.coupons import (
    ENDED,
    INACTIVE,
    ITEM_NOT_IN_BASKET,
    CartLine,
    CouponTerms,
    basket_total,
    coupon_closed_failures,
    coupon_discount,
    coupon_failures,
    tier_is_eligible,
)
from loyalty.webhook_emitters import coupon_claimed_event, coupon_issued_event, coupon_redeemed_event

Status = Voucher.Status
LIVE = (Status.ISSUED, Status.CLAIMED, Status.REDEEMED)
REDEEMABLE = (Status.ISSUED, Status.CLAIMED)
OTHER_CUSTOMER = "other_customer"
# An auto-apply coupon's code names no voucher: it is redeemed for a customer, who must be given.
CUSTOMER_REQUIRED = "customer_required"
# The code of a voucher issued by redeeming an auto-apply coupon by its coupon code starts with this, e.g.
# AUTO-GOLD-7KQ4-M2XR-P9TA-CE3H for a pattern "GOLD-{code}". Voucher.origin (AUTO_APPLY) is what says how a voucher
# was issued; the prefix stays because receipts, integrators (docs/loyalty-api.md) and migration 0010 know it.
AUTO_APPLIED_CODE_PREFIX = "AUTO-"
CODE_ATTEMPTS = 5
EXPIRY_BATCH = 1000


@dataclass(frozen=True)
class VoucherValidation:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    discount: Decimal | None = None


def voucher_qs_select_for_update() -> QuerySet[Voucher]:
    return Voucher.objects.select_for_update(of=("self",)).select_related("definition", "customer", "redeemed_store")


def coupon_definition_qs_select_for_update() -> QuerySet[CouponDefinition]:
    return CouponDefinition.objects.select_for_update()


def coupon_terms(definition: CouponDefinition) -> CouponTerms:
    return CouponTerms(
        kind=definition.kind,
        value=Decimal(definition.value),
        product_id=definition.product_id,
        is_active=definition.is_active,
        valid_from=definition.valid_from,
        valid_until=definition.valid_until,
        channels=frozenset(definition.channels),
        eligible_tiers=frozenset(definition.eligible_tiers.values_list("code", flat=True)),
        min_basket=Decimal(definition.min_basket),
        limit_per_customer=definition.limit_per_customer,
        limit_total=definition.limit_total,
    )


@transaction.atomic
def coupon_definition_create(
    *,
    program: Program,
    code: str,
    name: str,
    kind: str,
    value: Decimal = Decimal("0"),
    eligible_tiers: Sequence[Tier] = (),
    **fields: Any,
) -> CouponDefinition:
    """Create a coupon definition; other model fields (channels, valid_from, limits, ...) pass through `fields`.
    Raises ValidationError for values the model's constraints refuse and for tiers of another program."""
    if any(tier.program_id != program.pk for tier in eligible_tiers):
        raise ValidationError({"eligible_tiers": _("Choose tiers of the coupon's program.")})
    definition = CouponDefinition(program=program, code=code, name=name, kind=kind, value=value, **fields)
    definition.full_clean()
    definition.save()
    definition.eligible_tiers.set(eligible_tiers)
    return definition


# What an edit may change. Program and code are fixed once created: vouchers, tills and webhooks name a coupon by
# them. The eligible tiers are passed separately (a many-to-many relation).
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "kind",
        "value",
        "product_id",
        "valid_from",
        "valid_until",
        "channels",
        "auto_apply",
        "min_basket",
        "limit_per_customer",
        "limit_total",
        "code_pattern",
        "is_active",
    }
)
FIXED_FIELDS = ("program", "code")
# Once a voucher was redeemed, its receipt and the campaign's figures say what the coupon gave: the discount stays.
DISCOUNT_FIELDS = ("kind", "value", "product_id")


def coupon_definition_update_check(
    *, definition: CouponDefinition, eligible_tiers: Sequence[Tier] | None = None, **fields: Any
) -> None:
    """Raise ValidationError (a message per field) for an edit coupon_definition_update refuses; writes nothing.

    The refusals: program and code are fixed; kind, value and free item are fixed once a voucher was redeemed;
    limit_total may not fall below the live vouchers (issued, claimed, redeemed); eligible tiers must be of the
    coupon's program and may not leave out a tier that gives the coupon as a tier benefit. The admin form calls
    this to show the refusals on the form; the service calls it again under the definition's lock."""
    errors: dict[str, str] = {}
    for name in FIXED_FIELDS:
        if name in fields and fields[name] != getattr(definition, name):
            errors[name] = _("The %(field)s of a coupon cannot be changed once created.") % {"field": name}
    unknown = set(fields) - UPDATABLE_FIELDS - set(FIXED_FIELDS)
    for name in sorted(unknown):
        errors[name] = _("There is no such coupon field.")
    changed_discount = [
        name for name in DISCOUNT_FIELDS if name in fields and fields[name] != getattr(definition, name)
    ]
    if changed_discount and Voucher.objects.filter(definition=definition, status=Status.REDEEMED).exists():
        for name in changed_discount:
            errors[name] = _("Vouchers of this coupon were redeemed: its discount can no longer change.")
    limit_total = fields.get("limit_total", definition.limit_total)
    if limit_total is not None and limit_total != definition.limit_total:
        live = _live_count(definition)
        if limit_total < live:
            errors["limit_total"] = _("%(live)d vouchers are already issued: the total limit cannot be lower.") % {
                "live": live
            }
    if eligible_tiers is not None:
        tier_error = _eligible_tiers_refusal(definition, eligible_tiers)
        if tier_error:
            errors["eligible_tiers"] = tier_error
    if errors:
        raise ValidationError(errors)


def _eligible_tiers_refusal(definition: CouponDefinition, eligible_tiers: Sequence[Tier]) -> str | None:
    if any(tier.program_id != definition.program_id for tier in eligible_tiers):
        return _("Choose tiers of the coupon's program.")
    if not eligible_tiers:
        return None
    chosen = {tier.pk for tier in eligible_tiers}
    left_out = sorted(
        definition.tier_benefits.exclude(tier_id__in=chosen).values_list("tier__name", flat=True).distinct()
    )
    if left_out:
        return _("These tiers give the coupon as a tier benefit and must stay eligible: %(tiers)s.") % {
            "tiers": ", ".join(left_out)
        }
    return None


@transaction.atomic
def coupon_definition_update(
    *, definition: CouponDefinition, eligible_tiers: Sequence[Tier] | None = None, **fields: Any
) -> CouponDefinition:
    """Change a coupon definition: the given fields, and the eligible tiers when given. Locks the definition row
    (as issuing does), so that the vouchers counted against a new total limit cannot grow meanwhile. A changed
    rule applies from the next issue, claim or redemption on; vouchers already issued keep their codes and expiry.

    Raises ValidationError for what coupon_definition_update_check refuses and for values the model's
    constraints refuse; nothing is written then."""
    definition = coupon_definition_qs_select_for_update().get(pk=definition.pk)
    coupon_definition_update_check(definition=definition, eligible_tiers=eligible_tiers, **fields)
    for name, value in fields.items():
        setattr(definition, name, value)
    definition.full_clean()
    definition.save()
    if eligible_tiers is not None:
        definition.eligible_tiers.set(eligible_tiers)
    return definition


def _not_found() -> ApplicationError:
    return ApplicationError(_("No such coupon code."), code=LoyaltyErrorCode.COUPON_NOT_FOUND, status=404)


def _not_eligible(reasons: list[str]) -> ApplicationError:
    return ApplicationError(
        _("The coupon cannot be used here."),
        code=LoyaltyErrorCode.COUPON_NOT_ELIGIBLE,
        status=422,
        extra={"reasons": reasons},
    )


def _refuse_unusable(voucher: Voucher, *, now: datetime) -> None:
    """Raise for a voucher that can no longer be claimed or redeemed (redeemed, cancelled, expired)."""
    if voucher.status == Status.REDEEMED:
        raise _already_redeemed()
    if voucher.status == Status.CANCELLED:
        raise ApplicationError(_("The coupon was cancelled."), code=LoyaltyErrorCode.COUPON_CANCELLED, status=409)
    # expires_at is exclusive, like valid_until: at that instant the voucher is expired even before the job ran.
    if voucher.status == Status.EXPIRED or (voucher.expires_at is not None and voucher.expires_at <= now):
        raise _expired()


def _already_redeemed() -> ApplicationError:
    return ApplicationError(
        _("The coupon was already redeemed."), code=LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, status=409
    )


def _expired() -> ApplicationError:
    return ApplicationError(_("The coupon has expired."), code=LoyaltyErrorCode.COUPON_EXPIRED, status=409)


def _live_count(definition: CouponDefinition, *, customer: Customer | None = None) -> int:
    vouchers = Voucher.objects.filter(definition=definition, status__in=LIVE)
    if customer is not None:
        vouchers = vouchers.filter(customer=customer)
    return vouchers.count()


def _limit_reached() -> ApplicationError:
    return ApplicationError(
        _("The coupon's issue limit is reached."), code=LoyaltyErrorCode.COUPON_LIMIT_REACHED, status=409
    )


def _customer_tier(customer: Customer | None, program: Program) -> str | None:
    if customer is None:
        return None
    account = LoyaltyAccount.objects.filter(customer=customer, program=program).select_related("tier").first()
    return account.tier.code if account is not None and account.tier is not None else None


def _voucher_get_locked(code: str) -> Voucher:
    try:
        return voucher_qs_select_for_update().get(normalised_code=code_normalise(code))
    except Voucher.DoesNotExist:
        raise _not_found() from None


def _insert_with_unique_code(definition: CouponDefinition, *, code_prefix: str = "", **fields: Any) -> Voucher:
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
        raise _not_eligible(reasons)
    if definition.limit_total is not None and _live_count(definition) >= definition.limit_total:
        raise _limit_reached()
    if (
        customer is not None
        and definition.limit_per_customer is not None
        and _live_count(definition, customer=customer) >= definition.limit_per_customer
    ):
        raise _limit_reached()
    voucher = _insert_with_unique_code(
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
        raise _not_found()
    _refuse_unusable(voucher, now=now)
    # A voucher without an expiry (issued before its coupon had an end) still ends with its coupon.
    valid_until = voucher.definition.valid_until
    if valid_until is not None and now >= valid_until:
        raise _expired()
    if voucher.status == Status.CLAIMED:
        return voucher
    if voucher.customer_id is None:
        definition = coupon_definition_qs_select_for_update().get(pk=voucher.definition_id)
        limit = definition.limit_per_customer
        if limit is not None and _live_count(definition, customer=customer) >= limit:
            raise _limit_reached()
    voucher.customer = customer
    voucher.status = Status.CLAIMED
    voucher.claimed_at = now
    voucher.full_clean(validate_unique=False)
    voucher.save(update_fields=["customer", "status", "claimed_at", "updated_at"])
    coupon_claimed_event(voucher)
    return voucher


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
    _refuse_unusable(voucher, now=now)
    return _check(voucher, customer=customer, channel=channel, lines=lines, now=now)


@transaction.atomic
def voucher_redeem(
    *,
    code: str,
    transaction_id: str,
    customer: Customer | None,
    channel: str,
    lines: Sequence[CartLine],
    store: Store | None = None,
    now: datetime | None = None,
) -> Voucher:
    """Redeem the voucher in a purchase at `store`, once. Locks the voucher row, so that of two tills redeeming it
    at the same moment one succeeds and the other gets COUPON_ALREADY_REDEEMED; an anonymous voucher redeemed for a
    customer locks its definition too when the coupon has a per-customer limit, and counts the vouchers the
    customer holds or used (customer_limit_reached), as claiming it would. Redeeming it again with the same
    transaction id and the same customer (or again none) returns the first redemption unchanged (a till retrying)
    when the store and the discount are the same, and raises ERR_TX_ALREADY_EXISTS when not; the same transaction
    id from another customer is COUPON_ALREADY_REDEEMED. Emits coupon.redeemed.

    A code that is no voucher's but an auto-apply coupon's own code is redeemed for the customer by
    auto_apply_coupon_redeem (a new voucher, issued and redeemed at once); without a customer it is
    COUPON_NOT_ELIGIBLE with the reason CUSTOMER_REQUIRED. Voucher codes are looked up first.

    Raises COUPON_NOT_FOUND, COUPON_ALREADY_REDEEMED, COUPON_CANCELLED, COUPON_EXPIRED, ERR_TX_ALREADY_EXISTS and
    COUPON_NOT_ELIGIBLE (with the reasons in extra["reasons"]). Nothing is written when it raises.
    """
    now = now or timezone.now()
    voucher = voucher_qs_select_for_update().filter(normalised_code=code_normalise(code)).first()
    if voucher is None:
        definition = _auto_apply_definition_for(code, customer)
        if customer is None or definition is None:
            raise _not_eligible([CUSTOMER_REQUIRED])
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
    _refuse_unusable(voucher, now=now)
    if voucher.customer_id is None and customer is not None and voucher.definition.limit_per_customer is not None:
        # The limit was read without the lock: one set by an edit committing meanwhile applies from the next
        # redemption on, as coupon_definition_update promises, and anonymous codes of a coupon without one are
        # not serialised on its row.
        voucher.definition = (
            coupon_definition_qs_select_for_update().select_related("program").get(pk=voucher.definition_id)
        )
    result = _check(voucher, customer=customer, channel=channel, lines=lines, now=now)
    if not result.eligible:
        raise _not_eligible(result.reasons)
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
        raise _not_found()
    definition = (
        definitions.filter(program__accounts__customer=customer)
        .select_related("program")
        .order_by("-program__is_default", "pk")
        .first()
    )
    if definition is None:
        raise _not_found()
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
            raise _already_redeemed()
        _refuse_changed_retry(earlier, definition=definition, store=store, lines=lines)
        return earlier
    result = auto_apply_redemption_check(definition, customer=customer, channel=channel, lines=lines, now=now)
    if not result.eligible:
        raise _not_eligible(result.reasons)
    voucher = _insert_with_unique_code(
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


@transaction.atomic
def voucher_cancel(*, code: str, now: datetime | None = None) -> Voucher:
    """Cancel an issued or claimed voucher; cancelling a cancelled one returns it unchanged. No webhook: the
    catalogue has no coupon.cancelled. Raises COUPON_NOT_FOUND, COUPON_ALREADY_REDEEMED, COUPON_EXPIRED."""
    now = now or timezone.now()
    voucher = _voucher_get_locked(code)
    if voucher.status == Status.CANCELLED:
        return voucher
    _refuse_unusable(voucher, now=now)
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


# Eligibility preview (the coupon definition page) -----------------------------------------------------------------


@dataclass(frozen=True)
class TierEligibility:
    code: str | None
    name: str
    members: int
    eligible: int


@dataclass(frozen=True)
class EligibilityPreview:
    """Who could use the coupon at `now`: enrolled members per tier (and without a tier), and the reasons that
    close it to everyone. Channel and basket depend on the purchase and are left out."""

    closed_reasons: list[str]
    tiers: list[TierEligibility]
    live_vouchers: int
    redeemed_vouchers: int

    @property
    def members(self) -> int:
        return sum(tier.members for tier in self.tiers)

    @property
    def eligible(self) -> int:
        return sum(tier.eligible for tier in self.tiers)


@dataclass(frozen=True)
class CustomerEligibility:
    public_id: str
    tier: str | None
    reasons: list[str]
    discount: Decimal | None

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _members_per_tier(accounts: QuerySet[LoyaltyAccount]) -> dict[int | None, int]:
    rows = accounts.order_by().values("tier_id").annotate(count=Count("pk")).values_list("tier_id", "count")
    return dict(rows)


def coupon_eligibility_preview(
    *, program: Program, terms: CouponTerms, definition: CouponDefinition | None = None, now: datetime
) -> EligibilityPreview:
    """Count, per tier, the program's enrolled members who could use a coupon with these (possibly unsaved) terms
    at `now`; `definition`, when the coupon exists, supplies its redeemed vouchers for the limits. A handful of
    aggregate queries whatever the number of members; writes and locks nothing."""
    redeemed = live = 0
    exhausted: dict[int | None, int] = {}
    members = LoyaltyAccount.objects.filter(program=program, state=LoyaltyAccount.State.ENROLLED)
    if definition is not None and definition.pk is not None:
        counts = Voucher.objects.filter(definition=definition).aggregate(
            redeemed=Count("pk", filter=Q(status=Status.REDEEMED)), live=Count("pk", filter=Q(status__in=LIVE))
        )
        redeemed, live = counts["redeemed"], counts["live"]
        if terms.limit_per_customer is not None and redeemed:
            used_up = (
                Voucher.objects.filter(definition=definition, status=Status.REDEEMED, customer__isnull=False)
                .order_by()
                .values("customer_id")
                .annotate(uses=Count("pk"))
                .filter(uses__gte=terms.limit_per_customer)
                .values("customer_id")
            )
            exhausted = _members_per_tier(members.filter(customer_id__in=used_up))
    closed = coupon_closed_failures(terms, now=now, total_uses=redeemed)
    per_tier = _members_per_tier(members)
    rows: list[tuple[int | None, str | None, str]] = [
        (tier.pk, tier.code, tier.name) for tier in program.tiers.order_by("rank")
    ]
    if per_tier.get(None):
        rows.append((None, None, _("No tier")))
    tiers = []
    for tier_pk, code, name in rows:
        count = per_tier.get(tier_pk, 0)
        eligible = 0 if closed or not tier_is_eligible(terms, code) else count - exhausted.get(tier_pk, 0)
        tiers.append(TierEligibility(code=code, name=name, members=count, eligible=eligible))
    return EligibilityPreview(closed_reasons=closed, tiers=tiers, live_vouchers=live, redeemed_vouchers=redeemed)


def coupon_eligibility_for_customer(
    *,
    program: Program,
    terms: CouponTerms,
    definition: CouponDefinition | None = None,
    identifier: str,
    channel: str,
    basket: Decimal,
    now: datetime,
) -> CustomerEligibility | None:
    """Could this customer (public id or loyalty account number) use a coupon with these terms in a purchase of
    `basket` on `channel` at `now`, and what would it give? None: no such customer. Reads only."""
    term = identifier.strip()
    # One indexed lookup after the other: an OR across the join could not use either index.
    customer = Customer.objects.filter(public_id=term.upper()).first()
    if customer is None:
        account_number = "".join(char for char in term if char not in " -")
        customer = Customer.objects.filter(loyalty_accounts__account_number=account_number).first()
    if customer is None:
        return None
    account = LoyaltyAccount.objects.filter(customer=customer, program=program).select_related("tier").first()
    tier = account.tier.code if account is not None and account.tier is not None else None
    customer_uses = total_uses = 0
    if definition is not None and definition.pk is not None:
        counts = Voucher.objects.filter(definition=definition, status=Status.REDEEMED).aggregate(
            total=Count("pk"), mine=Count("pk", filter=Q(customer=customer))
        )
        customer_uses, total_uses = counts["mine"], counts["total"]
    reasons = coupon_failures(
        terms,
        tier=tier,
        channel=channel,
        now=now,
        basket=basket,
        customer_uses=customer_uses,
        total_uses=total_uses,
    )
    # A free item depends on the basket's lines, which the preview does not have.
    discount = None if terms.kind == CouponDefinition.Kind.FREE_ITEM else coupon_discount(terms, [CartLine("", basket)])
    return CustomerEligibility(public_id=customer.public_id, tier=tier, reasons=reasons, discount=discount)
