"""Scan & Go reads: what a device learns when a shopper scans a card (GET /customer-profile). Nothing here writes.

Queries per scan, pinned by tests/clienteling/scan_and_go/test_query_budget.py:
1. the card (or, by customer id, the account) with its account, customer, consents, program, the program's Scan &
   Go policy and the tier joined; annotated with whether the account has purchases and the stamp of the
   program's coupon definitions (their latest change and their count);
2. the customer's vouchers in that program that are issued or claimed (and the redeemed ones of auto-apply coupons
   with a per-customer limit), with their coupon joined: only when the device unlocks, the policy sends coupons
   and the shopper is an enrolled member who is not blocked;
3. only when an auto-apply coupon the customer may get has a total limit: how often it was redeemed.

The configuration (policy, store overrides, messages, risk rules, the program's Scan & Go coupons) is cached in
this process per program, checked against the stamp that query 1 annotates: loyalty/selectors/scan_and_go_config.py.
"""

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from crm.models import Customer
from loyalty.card_numbers import card_number_lookup_keys
from loyalty.models import (
    Card,
    CouponDefinition,
    LoyaltyAccount,
    Program,
    Purchase,
    ScanAndGoPolicy,
    Voucher,
)
from loyalty.rules import spot_check, unlock
from loyalty.rules.coupons import coupon_failures
from loyalty.selectors.scan_and_go_config import CHANNEL, ScanAndGoConfig, ScanAndGoCoupon, scan_and_go_config_get

# A device shows a handful of coupons; more would be an archive, and a slower answer.
COUPONS_MAX = 50
VOUCHERS_FETCHED_MAX = 200


# ------------------------------------------------------------------------------------------------- lookup


# What the profile reads of each joined row (prefixed by the path from the card); loading only these halves the
# time Django spends building and converting the hot query. Any other field read would cost a query per scan,
# which the query-budget tests would catch.
_PROFILE_FIELDS = (
    "account__customer_id",
    "account__program_id",
    "account__tier_id",
    "account__account_number",
    "account__state",
    "account__points_balance",
    "account__spot_check_bias_override",
    "account__enrolled_at",
    "account__created_at",
    "account__customer__public_id",
    "account__customer__status",
    "account__customer__first_name",
    "account__customer__last_name",
    "account__customer__email",
    "account__customer__preferred_language",
    "account__customer__customer_group",
    "account__customer__consents__agree_to_tc",
    "account__program__is_active",
    "account__program__default_language",
    "account__program__card_number_strip_leading_zeros",
    "account__tier__code",
    "account__tier__rank",
    "account__tier__spot_check_bias",
)
_POLICY_FIELDS = tuple(
    f"account__program__scan_and_go_policy__{field.name}"
    for field in ScanAndGoPolicy._meta.concrete_fields
    if field.name not in ("id", "created_at")
)


def _only(prefix: str) -> tuple[str, ...]:
    """The profile's fields as seen from a card (prefix "") or from an account (prefix "account__")."""
    return tuple(name.removeprefix(prefix) for name in (*_PROFILE_FIELDS, *_POLICY_FIELDS))


def _lookup_annotations(account: str) -> dict[str, Any]:
    """Whether the account has purchases, and the stamp of its program's coupon definitions; `account` is the
    path from the queried model to the account ("account_id" from a card, "pk" from an account)."""
    program = "program_id" if account == "pk" else "account__program_id"
    definitions = CouponDefinition.objects.filter(program_id=OuterRef(program)).order_by().values("program_id")
    return {
        "has_purchases": Exists(Purchase.objects.filter(account_id=OuterRef(account))),
        "coupons_changed_at": Subquery(definitions.annotate(latest=Max("updated_at")).values("latest")[:1]),
        "coupon_count": Subquery(definitions.annotate(count=Count("id")).values("count")[:1]),
    }


@dataclass(frozen=True)
class ScanSubject:
    """Who was scanned: the account (customer, consents, program, policy and tier joined), the card when one
    was scanned, and what query 1 annotated."""

    account: LoyaltyAccount
    card: Card | None
    has_purchases: bool
    coupons_changed_at: Any
    coupon_count: int


def card_number_condition(card_number: str) -> Q | None:
    """The filter on Card for a scanned or typed number, answered from the unique index; None for a value that
    cannot be a card number. A program that strips leading zeros stored its cards without them, so the value's
    zero-stripped form is looked for too, but only among such programs' cards."""
    exact, stripped = card_number_lookup_keys(card_number)
    if not exact:
        return None
    condition = Q(normalised_number=exact)
    if stripped and stripped != exact:
        condition |= Q(normalised_number=stripped, account__program__card_number_strip_leading_zeros=True)
    return condition


def customer_pks_by_card_number(*, card_number: str) -> list[int]:
    """The customers (at most two, enough to tell ambiguity) whose card this number is."""
    condition = card_number_condition(card_number)
    if condition is None:
        return []
    return list(Card.objects.filter(condition).values_list("account__customer_id", flat=True)[:2])


def card_for_scan_queryset(*, card_number: str) -> QuerySet[Card]:
    """Query 1 for a scanned number: at most two cards (the exact and the zero-stripped form), with everything
    the profile needs joined or annotated. Empty for a value that cannot be a card number."""
    condition = card_number_condition(card_number)
    if condition is None:
        return Card.objects.none()
    return _card_base_queryset().filter(condition)[:2]


@functools.cache
def _card_base_queryset() -> QuerySet[Card]:
    # Built once per process and only ever cloned (filter() copies it): assembling the joins, the field list and
    # the subqueries anew took a quarter of the profile's time.
    return (
        Card.objects.select_related(
            "account__customer__consents", "account__program__scan_and_go_policy", "account__tier"
        )
        .only("account_id", "number", "normalised_number", "status", "expires_at", *_only(""))
        .annotate(**_lookup_annotations("account_id"))
        .order_by()
    )


def card_for_scan_get(*, card_number: str) -> ScanSubject | None:
    """The card a scanned number names, or None; the exact form wins if both forms match."""
    cards = list(card_for_scan_queryset(card_number=card_number))
    if not cards:
        return None
    exact = card_number_lookup_keys(card_number)[0]
    card = min(cards, key=lambda candidate: candidate.normalised_number != exact)
    return ScanSubject(
        account=card.account,
        card=card,
        has_purchases=card.has_purchases,  # type: ignore[attr-defined]
        coupons_changed_at=card.coupons_changed_at,  # type: ignore[attr-defined]
        coupon_count=card.coupon_count or 0,  # type: ignore[attr-defined]
    )


# Our customer ids (crm/ids.py) and those of older imports: letters, digits and dashes, at most 32 characters.
_CUSTOMER_ID_FORMAT = re.compile(r"[A-Z0-9\-]{1,32}")


def _could_be_customer_id(value: str) -> bool:
    return _CUSTOMER_ID_FORMAT.fullmatch(value) is not None


def account_for_scan_get(*, customer_id: str) -> ScanSubject | None:
    """By customer id (query 1): the customer's account in an active program, the default one first, else their
    oldest; an account in a switched-off program only when they have no other. None when the customer is unknown
    or in no program. There is no card to judge."""
    public_id = customer_id.strip().upper()
    if not _could_be_customer_id(public_id):
        # Not our format (a device's own shopper key, say): unknown, as an unknown card is, without a query.
        return None
    account = (
        LoyaltyAccount.objects.filter(customer__public_id=public_id)
        .select_related("customer__consents", "program__scan_and_go_policy", "tier")
        .only(*_only("account__"))
        .annotate(**_lookup_annotations("pk"))
        .order_by("-program__is_active", "-program__is_default", "created_at", "id")
        .first()
    )
    if account is None:
        return None
    return ScanSubject(
        account=account,
        card=None,
        has_purchases=account.has_purchases,  # type: ignore[attr-defined]
        coupons_changed_at=account.coupons_changed_at,  # type: ignore[attr-defined]
        coupon_count=account.coupon_count or 0,  # type: ignore[attr-defined]
    )


# ------------------------------------------------------------------------------------------------ profile


@dataclass(frozen=True)
class CouponOffer:
    code: str
    title: str
    kind: str
    value: Decimal
    product_id: str
    valid_until: datetime | None


@dataclass(frozen=True)
class ScanAndGoProfile:
    customer: Customer
    account: LoyaltyAccount
    # False for a guest (opted out of the program): the device is then told nothing of the loyalty account.
    is_member: bool
    is_allowed: bool
    denial_reason: str | None
    message: str | None
    spot_check_bias: int
    coupons: list[CouponOffer]
    preferred_locale: str


def _terms_accepted(customer: Customer) -> bool:
    try:
        consents = customer.consents
    except Customer.consents.RelatedObjectDoesNotExist:
        return False
    return bool(consents.agree_to_tc)


def _eligible(coupon: ScanAndGoCoupon, *, tier: str | None, now: datetime, customer_uses: int, total_uses: int) -> bool:
    # No basket yet at unlock: the minimum basket is the till's to check at payment.
    return not coupon_failures(
        coupon.terms,
        tier=tier,
        channel=CHANNEL,
        now=now,
        basket=coupon.terms.min_basket,
        customer_uses=customer_uses,
        total_uses=total_uses,
    )


def _coupon_offers(*, config: ScanAndGoConfig, account: LoyaltyAccount, now: datetime) -> list[CouponOffer]:
    """The customer's usable vouchers (newest first), then the auto-apply coupons they may get without one."""
    tier = account.tier.code if account.tier is not None else None
    auto_apply = [coupon for coupon in config.coupons.values() if coupon.auto_apply]
    limited = [coupon.definition_id for coupon in auto_apply if coupon.terms.limit_per_customer is not None]
    vouchers = list(
        Voucher.objects.filter(customer_id=account.customer_id, definition__program_id=account.program_id)
        .filter(
            Q(status__in=(Voucher.Status.ISSUED, Voucher.Status.CLAIMED))
            | Q(status=Voucher.Status.REDEEMED, definition_id__in=limited)
        )
        .select_related("definition")
        .order_by("-issued_at", "-id")[:VOUCHERS_FETCHED_MAX]
    )
    offers: list[CouponOffer] = []
    held: set[int] = set()
    redeemed: dict[int, int] = {}
    for voucher in vouchers:
        if voucher.status == Voucher.Status.REDEEMED:
            redeemed[voucher.definition_id] = redeemed.get(voucher.definition_id, 0) + 1
            continue
        coupon = config.coupons.get(voucher.definition_id)
        if coupon is None or (voucher.expires_at is not None and voucher.expires_at <= now):
            continue
        # Limits were spent when the voucher was issued; what is left to check is validity, channel and tier.
        if not _eligible(coupon, tier=tier, now=now, customer_uses=0, total_uses=0):
            continue
        held.add(voucher.definition_id)
        ends = [end for end in (voucher.expires_at, coupon.valid_until) if end is not None]
        offers.append(_offer(coupon, code=voucher.code, valid_until=min(ends) if ends else None))
    candidates = [
        coupon
        for coupon in auto_apply
        if coupon.definition_id not in held
        and _eligible(coupon, tier=tier, now=now, customer_uses=redeemed.get(coupon.definition_id, 0), total_uses=0)
    ]
    totals = _redemption_totals([c.definition_id for c in candidates if c.terms.limit_total is not None])
    for coupon in candidates:
        if _eligible(
            coupon,
            tier=tier,
            now=now,
            customer_uses=redeemed.get(coupon.definition_id, 0),
            total_uses=totals.get(coupon.definition_id, 0),
        ):
            offers.append(_offer(coupon, code=coupon.code, valid_until=coupon.valid_until))
    return offers[:COUPONS_MAX]


def _redemption_totals(definition_ids: list[int]) -> dict[int, int]:
    if not definition_ids:
        return {}
    rows = (
        Voucher.objects.filter(definition_id__in=definition_ids, status=Voucher.Status.REDEEMED)
        .order_by()
        .values("definition_id")
        .annotate(count=Count("id"))
    )
    return {row["definition_id"]: row["count"] for row in rows}


def _offer(coupon: ScanAndGoCoupon, *, code: str, valid_until: datetime | None) -> CouponOffer:
    return CouponOffer(
        code=code,
        title=coupon.title,
        kind=coupon.kind,
        value=coupon.value,
        product_id=coupon.product_id,
        valid_until=valid_until,
    )


def _gets_member_benefits(customer: Customer, account: LoyaltyAccount) -> bool:
    """Coupons are for members in good standing, as everywhere else (a shopper session shows a guest or a blocked
    shopper no rewards): not for a guest who opted out, nor for a blocked customer or account that the policy lets
    unlock anyway (its "deny blocked" switches off)."""
    return account.state == LoyaltyAccount.State.ENROLLED and customer.status != Customer.Status.BLOCKED


def _membership_days(account: LoyaltyAccount, now: datetime) -> int | None:
    since = account.enrolled_at or account.created_at
    return (now - since).days if since else None


def preferred_locale(customer: Customer) -> str:
    """The customer's language as a BCP 47 tag ("de_DE" -> "de-DE"); "" when they have none."""
    tag = customer.preferred_language.strip().replace("_", "-")
    if not tag:
        return ""
    language, *rest = tag.split("-")
    return "-".join([language.lower(), *(part.upper() if len(part) == 2 else part for part in rest)])


def scan_and_go_profile_get(
    *,
    card_number: str = "",
    customer_id: str = "",
    store_code: str = "",
    device_type: str = "",
    now: datetime | None = None,
) -> ScanAndGoProfile | None:
    """What the device is told about the shopper, or None: no such card or customer, or the customer is erased
    (both answer 404). Looks up by card number when one is given, else by customer id."""
    now = now or timezone.now()
    if card_number:
        subject = card_for_scan_get(card_number=card_number)
    else:
        subject = account_for_scan_get(customer_id=customer_id)
    if subject is None:
        return None
    account, card = subject.account, subject.card
    customer = account.customer
    if customer.status == Customer.Status.ERASED:
        return None
    program: Program = account.program
    policy = getattr(program, "scan_and_go_policy", None)
    config = scan_and_go_config_get(
        program_id=program.pk,
        policy=policy,
        coupons_changed_at=subject.coupons_changed_at,
        coupon_count=subject.coupon_count,
    )
    unlock_policy, store_delta = config.for_store(store_code)
    terms_accepted = _terms_accepted(customer)
    reason = unlock.unlock_denial(
        unlock_policy,
        unlock.UnlockFacts(
            program_active=program.is_active,
            customer_blocked=customer.status == Customer.Status.BLOCKED,
            account_blocked=account.state == LoyaltyAccount.State.BLOCKED,
            account_guest=account.state == LoyaltyAccount.State.GUEST,
            card_status=card.status if card else None,
            card_expires_at=card.expires_at if card else None,
            terms_accepted=terms_accepted,
            device_type=unlock.device_type_normalise(device_type),
            now=now,
        ),
    )
    message = None
    if reason is not None:
        language = unlock.message_language(
            preferred=customer.preferred_language,
            program_default=program.default_language,
            site_default=settings.LANGUAGE_CODE,
            supported=[code for code, _name in settings.LANGUAGES],
        )
        message = unlock.denial_message(reason, language=language, custom_messages=config.messages)
    bias = spot_check.spot_check_bias(
        spot_check.ShopperFacts(
            tier_bias=account.tier.spot_check_bias if account.tier else 0,
            account_override=account.spot_check_bias_override,
            store_delta=store_delta,
            has_purchases=subject.has_purchases,
            membership_days=_membership_days(account, now),
            tier_rank=account.tier.rank if account.tier else None,
            customer_group=customer.customer_group,
            terms_accepted=terms_accepted,
        ),
        config.risk_rules,
    )
    coupons = []
    if reason is None and config.include_coupons and config.coupons and _gets_member_benefits(customer, account):
        coupons = _coupon_offers(config=config, account=account, now=now)
    return ScanAndGoProfile(
        customer=customer,
        account=account,
        is_member=account.state != LoyaltyAccount.State.GUEST,
        is_allowed=reason is None,
        denial_reason=reason,
        message=message,
        spot_check_bias=bias,
        coupons=coupons,
        preferred_locale=preferred_locale(customer),
    )
