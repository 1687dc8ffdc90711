"""Reads behind the shopper session (POST /api/v1/sessions) and GET /api/v1/configuration, modelled on
LoyaltyLion's headless API: the program's configuration as a web shop or app shows it, finding the shopper by the
shop's own customer id (`merchant_id`, stored as the customer's alternate customer id), the enrolled shopper's
points, tier progress and rewards, and what a cart must drop. Nothing here writes.

Session channels (web, pos, mobile) are not coupon channels (pos, scan_and_go, web): an app is an online shop, so
`mobile` sessions see the coupons offered on `web`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer
from crm.normalisation import normalise_email
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Tier, TierBenefitCoupon, Voucher
from loyalty.rules.coupons import (
    ENDED,
    INACTIVE,
    ITEM_NOT_IN_BASKET,
    MIN_BASKET,
    CartLine,
    CouponTerms,
    basket_total,
    coupon_failures,
)
from loyalty.rules.tiers import decision_at_expiry
from loyalty.selectors.accounts import (
    CustomerOverview,
    customer_overview_get,
    program_get_default_with_tiers,
    qualifying_number,
)
from loyalty.selectors.coupons import coupon_channel_condition, coupon_terms, vouchers_usable_queryset
from loyalty.services.coupon_redemptions import voucher_validate

State = LoyaltyAccount.State
COUPON_CHANNEL_OF_SESSION = {
    "web": CouponDefinition.Channel.WEB,
    "mobile": CouponDefinition.Channel.WEB,
    "pos": CouponDefinition.Channel.POS,
}
# LoyaltyLion sends the 20 most recent claimed rewards; a shop shows a wallet, not an archive.
CLAIMED_REWARDS_MAX = 20

# Why a cart line that redeems a voucher must go. The first two are LoyaltyLion's; the others are ours, for what
# LoyaltyLion has no word for. Clients should treat any reason they do not know as "remove the line".
REDEMPTION_EXPIRED = "redemption_expired"
REDEMPTION_CART_REQUIREMENTS_NOT_MET = "redemption_cart_requirements_not_met"
REDEMPTION_INVALID = "redemption_invalid"
CUSTOMER_BLOCKED = "customer_blocked"
CART_ACTION_REASONS = (REDEMPTION_EXPIRED, REDEMPTION_CART_REQUIREMENTS_NOT_MET, REDEMPTION_INVALID, CUSTOMER_BLOCKED)
_EXPIRED_COUPON_REASONS = frozenset({ENDED, INACTIVE})
_CART_COUPON_REASONS = frozenset({MIN_BASKET, ITEM_NOT_IN_BASKET})
_EXPIRED_ERROR_CODES = frozenset({LoyaltyErrorCode.COUPON_EXPIRED})


def coupon_channel_for(channel: str) -> str:
    return COUPON_CHANNEL_OF_SESSION[channel]


# ------------------------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class TierBenefit:
    id: str
    label: str
    details: str | None = None


@dataclass(frozen=True)
class ConfiguredTier:
    tier: Tier
    position: int
    lower_bound: int | Decimal
    upper_bound: int | Decimal | None
    renewal_bound: int | Decimal
    benefits: list[TierBenefit]


@dataclass(frozen=True)
class Reward:
    """A coupon definition as a shop shows it, with its eligible tiers' codes (lowest rank first; empty: everyone)."""

    definition: CouponDefinition
    tier_codes: list[str]

    @property
    def terms(self) -> CouponTerms:
        return coupon_terms(self.definition, tier_codes=self.tier_codes)


@dataclass(frozen=True)
class LoyaltyConfiguration:
    """What GET /api/v1/configuration shows, and every session carries. `channel` None: every channel."""

    program: Program
    channel: str | None
    language: str
    tiers: list[ConfiguredTier]
    rewards: list[Reward]

    @property
    def currency(self) -> str:
        return self.program.currency.lower()


def _tier_benefits(tier: Tier, coupons: list[TierBenefitCoupon]) -> list[TierBenefit]:
    lines = [line.strip() for line in tier.benefits.splitlines() if line.strip()]
    benefits = [TierBenefit(id=f"{tier.code}:{index}", label=line) for index, line in enumerate(lines, start=1)]
    benefits += [
        TierBenefit(
            id=f"{tier.code}:coupon:{coupon.definition.code}",
            label=coupon.definition.name,
            details=coupon.definition.description or None,
        )
        for coupon in coupons
    ]
    return benefits


def _configured_tiers(program: Program, tiers: list[Tier]) -> list[ConfiguredTier]:
    coupons_by_tier: dict[int, list[TierBenefitCoupon]] = {tier.pk: [] for tier in tiers}
    benefit_coupons = (
        TierBenefitCoupon.objects.filter(tier__program=program)
        .select_related("definition")
        .order_by("tier__rank", "definition__code")
    )
    for coupon in benefit_coupons:
        coupons_by_tier[coupon.tier_id].append(coupon)
    configured = []
    for index, tier in enumerate(tiers):
        following = tiers[index + 1] if index + 1 < len(tiers) else None
        configured.append(
            ConfiguredTier(
                tier=tier,
                position=index + 1,
                lower_bound=qualifying_number(program, tier.threshold),
                upper_bound=qualifying_number(program, following.threshold) if following else None,
                renewal_bound=qualifying_number(program, tier.keep_threshold),
                benefits=_tier_benefits(tier, coupons_by_tier[tier.pk]),
            )
        )
    return configured


def _rewards(program: Program, channel: str | None, now: datetime) -> list[Reward]:
    """Active coupons of the program that have not ended, offered on the channel (any channel for None)."""
    definitions = (
        CouponDefinition.objects.filter(program=program, is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .prefetch_related(Prefetch("eligible_tiers", queryset=Tier.objects.order_by("rank")))
        .order_by("code")
    )
    if channel is not None:
        definitions = definitions.filter(coupon_channel_condition(coupon_channel_for(channel)))
    return [
        Reward(definition=definition, tier_codes=[tier.code for tier in definition.eligible_tiers.all()])
        for definition in definitions
    ]


def _spoken(tag: str) -> str | None:
    """The ISO 639-1 primary subtag of a language tag, if it is one of settings.LANGUAGES."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in {code for code, _name in settings.LANGUAGES} else None


def program_language(program: Program) -> str:
    return _spoken(program.default_language) or settings.LANGUAGE_CODE


def session_language(*, requested: str | None, customer: Customer, program: Program) -> str:
    """The language a session answers in: the one asked for, else the customer's own if we speak it, else the
    program's default."""
    return requested or _spoken(customer.preferred_language) or program_language(program)


def loyalty_configuration_get(
    *, channel: str | None, language: str | None = None, now: datetime | None = None
) -> LoyaltyConfiguration:
    """The default program with its tiers (lowest first, each with its bounds and benefits) and the rewards offered
    on `channel`, in `language` (default: the program's). Five queries: the program, its tiers, its tier-benefit
    coupons, its coupons and their eligible tiers. Raises NO_DEFAULT_PROGRAM (503)."""
    program = program_get_default_with_tiers()
    tiers: list[Tier] = program.tiers_by_rank  # type: ignore[attr-defined]
    return LoyaltyConfiguration(
        program=program,
        channel=channel,
        language=language or program_language(program),
        tiers=_configured_tiers(program, tiers),
        rewards=_rewards(program, channel, now or timezone.now()),
    )


# ---------------------------------------------------------------------------------------------- shopper


def customer_by_merchant_id(*, merchant_id: str) -> Customer | None:
    """The customer whose alternate customer id is the shop's `merchant_id`; None when there is none. Erased
    customers have no alternate id any more, so they are never found (a later session starts a new customer).
    Raises AMBIGUOUS_IDENTIFIER (409) when several customers carry the id: the session cannot tell them apart."""
    matches = list(Customer.objects.filter(alternate_customer_id=merchant_id).order_by("id")[:2])
    if len(matches) > 1:
        raise ApplicationError(
            _("Several customers have this merchant_id; merge them in the back office."),
            code=LoyaltyErrorCode.AMBIGUOUS_IDENTIFIER,
            status=409,
            extra={"field": "merchant_id"},
        )
    return matches[0] if matches else None


def customer_by_email(*, email: str) -> Customer | None:
    normalised = normalise_email(email)
    if not normalised:
        return None
    return Customer.objects.filter(email=normalised).first()


def session_account_get(*, customer: Customer, program: Program) -> LoyaltyAccount | None:
    return LoyaltyAccount.objects.select_related("program", "tier").filter(customer=customer, program=program).first()


def shopper_state(customer: Customer, account: LoyaltyAccount | None) -> str:
    """enrolled, guest (no account, or opted out) or blocked (the customer or the account)."""
    if customer.status == Customer.Status.BLOCKED or (account is not None and account.state == State.BLOCKED):
        return State.BLOCKED
    if account is not None and account.state == State.ENROLLED:
        return State.ENROLLED
    return State.GUEST


@dataclass(frozen=True)
class SessionCart:
    """A validated cart. `lines` are the request's line dicts: id, product_id, quantity, price, voucher_code."""

    kind: str
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rule_lines(self) -> list[CartLine]:
        return [
            CartLine(product_id=line["product_id"], unit_price=line["price"], quantity=line["quantity"])
            for line in self.lines
        ]

    @property
    def total(self) -> Decimal:
        return basket_total(self.rule_lines)


@dataclass(frozen=True)
class AvailableReward(Reward):
    can_redeem: str  # "redeemable" or "cart_requirements_not_met"
    claim_count: int
    claims_left: int | None


@dataclass(frozen=True)
class TierMembership:
    """The shopper's tier and how far they are from the next one and from keeping theirs, in the program's
    qualifying unit (`kind`: points or spend). None values: no next tier, or nothing to renew (the entry tier)."""

    tier: Tier
    started_at: datetime | None
    expires_at: datetime | None
    kind: str
    now: int | Decimal
    at_expiration: int | Decimal | None
    needed_for_renewal: int | Decimal | None
    upgrade_tier: Tier | None
    needed_for_upgrade: int | Decimal | None
    # The tier the shopper will hold after the expiry, on what will still count then (LoyaltyLion's
    # forecasted_tier_id): the renewal rule's decision, or the tier itself when it has nothing to renew.
    forecasted_tier: Tier | None = None


def _tier_membership(account: LoyaltyAccount, overview: CustomerOverview, tiers: list[Tier]) -> TierMembership | None:
    if account.tier is None or not overview.tiers:
        return None
    upgrade, renewal = overview.upgrade, overview.renewal
    forecasted_tier = account.tier
    if renewal is not None and tiers:
        forecasted_tier = decision_at_expiry(tiers, account.tier, Decimal(renewal.current_value)).tier
    return TierMembership(
        tier=account.tier,
        started_at=account.tier_achieved_at,
        expires_at=account.tier_expires_at,
        kind=account.program.tier_qualification,
        now=overview.tiers[0].points,
        at_expiration=renewal.current_value if renewal else None,
        needed_for_renewal=renewal.gap if renewal else None,
        upgrade_tier=upgrade.next_tier if upgrade else None,
        needed_for_upgrade=upgrade.gap if upgrade else None,
        forecasted_tier=forecasted_tier,
    )


@dataclass(frozen=True)
class SessionCustomer:
    """The customer part of a session. Guests and blocked shoppers carry only the identity fields; the rest is
    for enrolled shoppers."""

    customer: Customer
    merchant_id: str
    state: str
    account: LoyaltyAccount | None = None
    overview: CustomerOverview | None = None
    tier_membership: TierMembership | None = None
    available_rewards: list[AvailableReward] = field(default_factory=list)
    claimed_rewards: list[Voucher] = field(default_factory=list)


def _claimed_rewards(customer: Customer, program: Program, coupon_channel: str, now: datetime) -> list[Voucher]:
    vouchers = vouchers_usable_queryset(channel=coupon_channel, now=now).filter(
        customer=customer, definition__program=program
    )
    return list(vouchers[:CLAIMED_REWARDS_MAX])


def _available_rewards(
    *,
    customer: Customer,
    account: LoyaltyAccount,
    configuration: LoyaltyConfiguration,
    coupon_channel: str,
    held: set[int],
    basket: Decimal,
    now: datetime,
) -> list[AvailableReward]:
    """Auto-apply coupons of the channel the shopper may use without holding a code (as Scan & Go offers them),
    less those they hold a voucher of. A coupon missing only the minimum basket is listed as
    `cart_requirements_not_met`; any other refusal (tier, window, limits) leaves it out."""
    candidates = [
        reward for reward in configuration.rewards if reward.definition.auto_apply and reward.definition.pk not in held
    ]
    limited = [reward.definition.pk for reward in candidates if reward.definition.limit_per_customer is not None]
    capped = [reward.definition.pk for reward in candidates if reward.definition.limit_total is not None]
    mine = _redemption_counts(Q(definition_id__in=limited, customer=customer)) if limited else {}
    totals = _redemption_counts(Q(definition_id__in=capped)) if capped else {}
    tier = account.tier.code if account.tier else None
    available = []
    for reward in candidates:
        pk = reward.definition.pk
        uses = mine.get(pk, 0)
        failures = coupon_failures(
            reward.terms,
            tier=tier,
            channel=coupon_channel,
            now=now,
            basket=basket,
            customer_uses=uses,
            total_uses=totals.get(pk, 0),
        )
        if set(failures) - {MIN_BASKET}:
            continue
        limit = reward.definition.limit_per_customer
        available.append(
            AvailableReward(
                definition=reward.definition,
                tier_codes=reward.tier_codes,
                can_redeem="cart_requirements_not_met" if failures else "redeemable",
                claim_count=uses,
                claims_left=None if limit is None else limit - uses,
            )
        )
    return available


def _redemption_counts(condition: Q) -> dict[int, int]:
    rows = (
        Voucher.objects.filter(condition, status=Voucher.Status.REDEEMED)
        .order_by()
        .values("definition_id")
        .annotate(count=Count("id"))
    )
    return {row["definition_id"]: row["count"] for row in rows}


def session_customer_get(
    *,
    customer: Customer,
    account: LoyaltyAccount | None,
    configuration: LoyaltyConfiguration,
    channel: str,
    cart: SessionCart,
    now: datetime | None = None,
) -> SessionCustomer:
    """The shopper as a session shows them. For an enrolled shopper: balances and tier progress (the 360 view's
    upgrade and renewal), their usable vouchers on the channel (newest CLAIMED_REWARDS_MAX) and the auto-apply
    coupons they may use, judged against the cart's total."""
    now = now or timezone.now()
    state = shopper_state(customer, account)
    merchant_id = customer.alternate_customer_id
    if state != State.ENROLLED or account is None:
        return SessionCustomer(customer=customer, merchant_id=merchant_id, state=state)
    coupon_channel = coupon_channel_for(channel)
    overview = customer_overview_get(
        customer=customer, account=account, embeds=frozenset({"upgrade", "renewal"}), now=now
    )
    claimed = _claimed_rewards(customer, configuration.program, coupon_channel, now)
    available = _available_rewards(
        customer=customer,
        account=account,
        configuration=configuration,
        coupon_channel=coupon_channel,
        held={voucher.definition_id for voucher in claimed},
        basket=cart.total,
        now=now,
    )
    return SessionCustomer(
        customer=customer,
        merchant_id=merchant_id,
        state=state,
        account=account,
        overview=overview,
        tier_membership=_tier_membership(account, overview, [configured.tier for configured in configuration.tiers]),
        available_rewards=available,
        claimed_rewards=claimed,
    )


# -------------------------------------------------------------------------------------------- cart actions


@dataclass(frozen=True)
class CartAction:
    kind: str
    reason: str
    line: dict[str, Any]
    voucher_code: str
    coupon_reasons: list[str] = field(default_factory=list)


def _removal_reason(coupon_reasons: list[str]) -> str:
    # An ended coupon never comes back, whatever else is wrong; a cart shortfall alone can be fixed by the shopper.
    if _EXPIRED_COUPON_REASONS & set(coupon_reasons):
        return REDEMPTION_EXPIRED
    if _CART_COUPON_REASONS.issuperset(coupon_reasons):
        return REDEMPTION_CART_REQUIREMENTS_NOT_MET
    return REDEMPTION_INVALID


def session_cart_actions(
    *, customer: Customer, state: str, channel: str, cart: SessionCart, now: datetime | None = None
) -> list[CartAction]:
    """`remove_cart_line` for each cart line that redeems a voucher the shopper can no longer use in this cart, with
    the coupons API's reasons (loyalty.services.coupon_redemptions.voucher_validate, so the rules are the ones a
    redemption applies). A blocked shopper redeems nothing. A few queries per voucher line; lines without one cost
    nothing."""
    now = now or timezone.now()
    coupon_channel = coupon_channel_for(channel)
    rule_lines = cart.rule_lines
    actions = []
    for line in cart.lines:
        code = line.get("voucher_code") or ""
        if not code:
            continue
        if state == State.BLOCKED:
            actions.append(CartAction("remove_cart_line", CUSTOMER_BLOCKED, line, code))
            continue
        try:
            validation = voucher_validate(
                code=code, customer=customer, channel=coupon_channel, lines=rule_lines, now=now
            )
        except ApplicationError as error:
            reason = REDEMPTION_EXPIRED if error.code in _EXPIRED_ERROR_CODES else REDEMPTION_INVALID
            actions.append(CartAction("remove_cart_line", reason, line, code, [str(error.code).lower()]))
            continue
        if not validation.eligible:
            reasons = list(validation.reasons)
            actions.append(CartAction("remove_cart_line", _removal_reason(reasons), line, code, reasons))
    return actions
