"""Reads of coupons and vouchers: the terms the coupon rules evaluate, the channel filter, a customer's vouchers and
those usable now, and who could use a coupon (the coupon definition page's preview). Nothing here writes.

A "use" for a coupon's limits is a voucher issued, claimed or redeemed (LIVE): cancelled and expired ones free their
place.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Voucher
from loyalty.rules.coupons import (
    CartLine,
    CouponTerms,
    coupon_closed_failures,
    coupon_discount,
    coupon_failures,
    tier_is_eligible,
)

Status = Voucher.Status
LIVE = (Status.ISSUED, Status.CLAIMED, Status.REDEEMED)
REDEEMABLE = (Status.ISSUED, Status.CLAIMED)
# At most this many coupons per customer in the SPI loyalty profile: a till shows a list, not an archive.
SPI_COUPONS_MAX = 50
# At most this many in the loyalty API's customer summary (embed=coupons).
CUSTOMER_COUPONS_MAX = 50


def coupon_terms(definition: CouponDefinition, *, tier_codes: Iterable[str] | None = None) -> CouponTerms:
    """What the coupon rules need of a definition, its eligible tiers by code (the rules compare them with the
    customer's tier code). The tiers are `tier_codes` when given (an unsaved definition, such as the admin's
    preview of a form, has none to read), else the definition's eligible tiers: prefetched ones cost nothing,
    otherwise one query."""
    if tier_codes is None:
        tier_codes = [tier.code for tier in definition.eligible_tiers.all()]
    return CouponTerms(
        kind=definition.kind,
        value=Decimal(definition.value),
        product_id=definition.product_id,
        is_active=definition.is_active,
        valid_from=definition.valid_from,
        valid_until=definition.valid_until,
        channels=frozenset(definition.channels),
        eligible_tiers=frozenset(tier_codes),
        min_basket=Decimal(definition.min_basket),
        limit_per_customer=definition.limit_per_customer,
        limit_total=definition.limit_total,
    )


def coupon_channel_condition(channel: str, *, prefix: str = "") -> Q:
    """Coupon definitions offered on `channel`; `prefix` is the path to the definition ("definition__" from a
    voucher). Channels are a JSON list of known, distinct names, so '"pos"' cannot match inside '"scan_and_go"'."""
    return Q(**{f"{prefix}channels__icontains": f'"{channel}"'})


def vouchers_live_count(*, definition: CouponDefinition, customer: Customer | None = None) -> int:
    """How many of the definition's vouchers (the customer's, when given) hold a place in its limits."""
    vouchers = Voucher.objects.filter(definition=definition, status__in=LIVE)
    if customer is not None:
        vouchers = vouchers.filter(customer=customer)
    return vouchers.count()


def vouchers_usable_queryset(*, channel: str | None, now: datetime) -> QuerySet[Voucher]:
    """Issued or claimed vouchers usable on `channel` (None: on any) at `now`, newest first, with their coupon
    joined: the voucher not expired, its coupon active, inside its validity window and offered on the channel.
    What depends on the cart or the customer's tier (minimum basket, eligible tiers, limits) is checked when a till
    validates or redeems the code."""
    vouchers = Voucher.objects.select_related("definition").filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        Q(definition__valid_from__isnull=True) | Q(definition__valid_from__lte=now),
        Q(definition__valid_until__isnull=True) | Q(definition__valid_until__gt=now),
        status__in=REDEEMABLE,
        definition__is_active=True,
    )
    if channel is not None:
        vouchers = vouchers.filter(coupon_channel_condition(channel, prefix="definition__"))
    return vouchers.order_by("-issued_at", "-id")


def customer_vouchers_usable_prefetch(
    *, channel: str, now: datetime | None = None, limit: int = SPI_COUPONS_MAX
) -> Prefetch:
    """For Customer querysets: each customer's vouchers usable on `channel` now (vouchers_usable_queryset), the
    newest `limit` of them, in `customer.usable_vouchers`. One query for any number of customers and vouchers."""
    usable = vouchers_usable_queryset(channel=channel, now=now or timezone.now())[:limit]
    return Prefetch("vouchers", queryset=usable, to_attr="usable_vouchers")


def customer_vouchers_usable_now(*, customer: Customer, limit: int = CUSTOMER_COUPONS_MAX) -> list[Voucher]:
    """The customer's vouchers usable now on any channel (vouchers_usable_queryset), newest first: one query."""
    vouchers = vouchers_usable_queryset(channel=None, now=timezone.now()).select_related("definition__program")
    return list(vouchers.filter(customer=customer)[:limit])


def customer_vouchers_list(*, customer: Customer) -> QuerySet[Voucher]:
    """The customer's vouchers, newest first, with their coupon and program (one query, however many the caller
    filters and takes)."""
    return Voucher.objects.select_related("definition__program").filter(customer=customer).order_by("-issued_at", "-id")


def customer_vouchers_matching(
    *,
    customer: Customer,
    code: str | None = None,
    name: str | None = None,
    statuses: Iterable[str] | None = None,
    kind: str | None = None,
    value: Decimal | None = None,
) -> QuerySet[Voucher]:
    """customer_vouchers_list narrowed to a code (case-insensitively, as tills type it), the coupon's name, some
    statuses, a kind and a value; None leaves a criterion out."""
    vouchers = customer_vouchers_list(customer=customer)
    if code is not None:
        vouchers = vouchers.filter(code__iexact=code.strip())
    if name is not None:
        vouchers = vouchers.filter(definition__name=name)
    if statuses is not None:
        vouchers = vouchers.filter(status__in=list(statuses))
    if kind is not None:
        vouchers = vouchers.filter(definition__kind=kind)
    if value is not None:
        vouchers = vouchers.filter(definition__value=value)
    return vouchers


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
    aggregate queries whatever the number of members."""
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
    `basket` on `channel` at `now`, and what would it give? None: no such customer."""
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
