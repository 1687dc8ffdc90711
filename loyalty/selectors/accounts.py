"""Reads of the loyalty domain: the default program, accounts, finding a customer by a loyalty identifier, and the
customer 360 view that the loyalty API and the Clienteling SPI show. Nothing here writes."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.models import Address, Customer
from crm.normalisation import normalise_email, normalise_phone
from crm.selectors import customer_get_by_external_id
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import Card, LoyaltyAccount, PointsEntry, Program, Purchase, Tier
from loyalty.rules.tiers import decision_at_expiry
from loyalty.selectors.scan_and_go import card_number_condition
from loyalty.services.ledger import Balances, account_balances, open_lots
from loyalty.services.tiers import QUALIFYING_PURCHASE_STATES, qualifying_points_filter, qualifying_value

Kind = PointsEntry.Kind
Bucket = PointsEntry.Bucket

# Purchases that count as orders: everything but a checkout the merchant rejected.
COUNTED_PURCHASES = ~Q(state=Purchase.State.REJECTED)


def _default_program(queryset: QuerySet[Program]) -> Program:
    program = queryset.filter(is_default=True, is_active=True).first()
    if program is None:
        raise ApplicationError(
            _("No default loyalty program is configured."), code=LoyaltyErrorCode.NO_DEFAULT_PROGRAM, status=503
        )
    return program


def program_get_default() -> Program:
    """Raises NO_DEFAULT_PROGRAM (503) when marketing has not marked a program as the default."""
    return _default_program(Program.objects.all())


def program_get_default_with_tiers() -> Program:
    """The default program with its tiers, lowest rank first, in `tiers_by_rank`. Raises NO_DEFAULT_PROGRAM."""
    tiers = Prefetch("tiers", queryset=Tier.objects.order_by("rank"), to_attr="tiers_by_rank")
    return _default_program(Program.objects.prefetch_related(tiers))


def _accounts_queryset() -> QuerySet[LoyaltyAccount]:
    return LoyaltyAccount.objects.select_related("program", "tier", "address").order_by(
        "-program__is_default", "created_at", "id"
    )


def customer_pks_by_loyalty_id(*, loyalty_id: str) -> QuerySet:
    """Customer pks whose loyalty account number (spaces and dashes ignored) or loyalty card number (normalised as
    cards are, loyalty/card_numbers.py) is this value, as a subquery with one column, `customer_id`.

    A UNION of two lookups, each answered from its unique index (account number; card number), rather than an OR
    across the card join, which no index can answer."""
    normalised = "".join(char for char in loyalty_id if char not in " -")
    by_account_number = LoyaltyAccount.objects.filter(account_number=normalised).order_by().values("customer_id")
    card_condition = card_number_condition(loyalty_id)
    if card_condition is None:
        return by_account_number
    by_card_number = Card.objects.filter(card_condition).order_by().values("account__customer_id")
    return by_account_number.union(by_card_number)


# ------------------------------------------------------------------------------------------------ lookup


def customer_get_for_erasure(*, public_id: str) -> Customer:
    """The customer with this public id, erased or not (erasing twice is allowed). Raises CUSTOMER_NOT_FOUND."""
    customer = Customer.objects.filter(public_id=public_id.strip()).first()
    if customer is None:
        raise ApplicationError(
            _("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404, extra={"field": "customer"}
        )
    return customer


# What the loyalty API answers for an erased customer: the message integrators know from Capillary.
ERASED_MESSAGE = "Customer is deleted after PII delete request"


def customer_get_for_loyalty(*, public_id: str) -> Customer:
    """The customer with this public id, as the loyalty API finds one. Raises CUSTOMER_NOT_FOUND (404, naming
    `customer`), or CUSTOMER_ERASED (410) with ERASED_MESSAGE once the customer's PII has been erased."""
    customer = Customer.objects.filter(public_id=str(public_id).strip()).first()
    if customer is None:
        raise ApplicationError(
            _("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404, extra={"field": "customer"}
        )
    if customer.status == Customer.Status.ERASED:
        raise ApplicationError(ERASED_MESSAGE, code=LoyaltyErrorCode.CUSTOMER_ERASED, status=410)
    return customer


def customer_get_for_loyalty_by_external_id(*, source: str, external_id: str) -> Customer:
    """The customer another system (`source`, crm.ExternalCustomerId) calls `external_id`, as the loyalty API finds
    one. Raises CUSTOMER_NOT_FOUND (404, naming `customer`); an erased customer's links are deleted with its PII, so
    it is not found either."""
    customer = customer_get_by_external_id(source=source, external_id=str(external_id).strip())
    if customer is None:
        raise ApplicationError(
            _("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404, extra={"field": "customer"}
        )
    return customer


def loyalty_account_get_or_none(*, customer: Customer) -> LoyaltyAccount | None:
    """The customer's account in the default program (with program and tier), None if they never enrolled.
    Raises NO_DEFAULT_PROGRAM (503)."""
    return (
        LoyaltyAccount.objects.select_related("program", "tier")
        .filter(customer=customer, program=program_get_default())
        .first()
    )


def loyalty_account_get(*, customer: Customer) -> LoyaltyAccount:
    """loyalty_account_get_or_none, and NOT_ENROLLED (409) for a customer who never enrolled."""
    account = loyalty_account_get_or_none(customer=customer)
    if account is None:
        raise ApplicationError(
            _("The customer is not enrolled in the loyalty program."), code=LoyaltyErrorCode.NOT_ENROLLED, status=409
        )
    return account


LOOKUP_IDENTIFIERS = ("card", "email", "mobile", "external_id")


def customer_public_id_by_identifier(*, identifier: str, value: str) -> str:
    """The public id of the one customer an identifier names: `card` (a loyalty card number, normalised as cards
    are, or else a loyalty account number, spaces and dashes ignored), `email`, `mobile` (normalised to E.164 as
    crm stores it) or `external_id` (alternate customer id).

    Erased customers keep only their account number, so a card still finds them (and the API answers 410);
    their blanked contacts find nothing. Raises INVALID_FIELD (400) for a value that cannot be a mobile number,
    CUSTOMER_NOT_FOUND (404), and AMBIGUOUS_IDENTIFIER (409) when several customers share a mobile or external id.
    """
    from loyalty.selectors.scan_and_go import customer_pks_by_card_number

    value = value.strip()
    not_found = ApplicationError(
        _("No customer has this %(identifier)s.") % {"identifier": identifier},
        code=CrmErrorCode.CUSTOMER_NOT_FOUND,
        status=404,
        extra={"field": "value"},
    )
    if not value:
        raise not_found
    customers = Customer.objects.order_by("id")
    if identifier == "card":
        # Every account number is also its digital card, so the card index answers; the account number is the
        # fallback for accounts made without one. Two steps, not an OR: each is then one index lookup.
        card_customer_pks = customer_pks_by_card_number(card_number=value)
        if card_customer_pks:
            customers = customers.filter(pk__in=card_customer_pks)
        else:
            customers = customers.filter(pk__in=customer_pks_by_loyalty_id(loyalty_id=value))
    elif identifier == "email":
        customers = customers.filter(email=normalise_email(value))
    elif identifier == "mobile":
        phone = normalise_phone(value, default_region=settings.PHONENUMBER_DEFAULT_REGION)
        if not phone:
            raise ApplicationError(_("Not a phone number."), code=CrmErrorCode.INVALID_FIELD, extra={"field": "value"})
        customers = customers.filter(phone_mobile=phone)
    elif identifier == "external_id":
        customers = customers.filter(alternate_customer_id=value)
    else:
        raise ValueError(f"Unknown identifier: {identifier}")
    matches = list(customers.values_list("public_id", flat=True)[:2])
    if not matches:
        raise not_found
    if len(matches) > 1:
        raise ApplicationError(
            _("Several customers have this %(identifier)s; look them up by id or card instead.")
            % {"identifier": identifier},
            code=LoyaltyErrorCode.AMBIGUOUS_IDENTIFIER,
            status=409,
            extra={"field": "value"},
        )
    return matches[0]


# ------------------------------------------------------------------------------------------- 360 view

CUSTOMER_EMBEDS = ("expiry_schedule", "upgrade", "renewal", "transactions", "addresses")
RECENT_TRANSACTIONS = 20
NO_BALANCES = Balances(spendable=0, pending=0, reserved=0, spent=0, expired=0, earned=0, owed=0)


def qualifying_number(program: Program, value: Decimal) -> int | Decimal:
    """A qualifying value or threshold as the program counts it: whole points, or money with cents."""
    if program.tier_qualification == Program.TierQualification.POINTS:
        return int(value)
    return value.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class NextTier:
    tier: Tier
    threshold: int | Decimal
    gap: int | Decimal


@dataclass(frozen=True)
class TierStatus:
    tier: Tier
    since: datetime | None
    expdate: datetime | None
    threshold: int | Decimal
    points: int | Decimal
    next: NextTier | None


@dataclass(frozen=True)
class Upgrade:
    based_on: str
    current_value: int | Decimal
    next_tier: Tier
    threshold: int | Decimal
    gap: int | Decimal
    window_days: int


@dataclass(frozen=True)
class Renewal:
    tier: Tier
    expdate: datetime
    keep_threshold: int | Decimal
    current_value: int | Decimal
    gap: int | Decimal
    renew_confirmed: bool


@dataclass(frozen=True)
class ExpiryScheduleEntry:
    points: int
    expdate: date


@dataclass(frozen=True)
class CustomerOverview:
    """Everything the loyalty API's customer 360 view shows. Embeds not asked for are None."""

    customer: Customer
    account: LoyaltyAccount | None
    state: str
    currency: str | None
    balances: Balances
    purchase_count: int
    purchase_total: Decimal
    tiers: list[TierStatus]
    embeds: frozenset[str]
    expiry_schedule: list[ExpiryScheduleEntry] | None = None
    upgrade: Upgrade | None = None
    renewal: Renewal | None = None
    transactions: list[Purchase] | None = None
    addresses: list[Address] | None = None


def _customer_state(customer: Customer, account: LoyaltyAccount | None) -> str:
    if customer.status == Customer.Status.BLOCKED:
        return LoyaltyAccount.State.BLOCKED
    return account.state if account is not None else LoyaltyAccount.State.GUEST


def _purchase_totals(account: LoyaltyAccount) -> tuple[int, Decimal]:
    """Orders of the account that were not rejected, and what they came to net of refunds."""
    totals = Purchase.objects.filter(COUNTED_PURCHASES, account=account).aggregate(
        count=Count("id"),
        total=Coalesce(Sum(F("total") - F("refunded_total")), Value(Decimal("0")), output_field=DecimalField()),
    )
    return totals["count"], Decimal(totals["total"]).quantize(Decimal("0.01"))


def _gap(program: Program, threshold: Decimal, value: Decimal) -> int | Decimal:
    return qualifying_number(program, max(threshold - value, Decimal("0")))


def _next_tier(account: LoyaltyAccount, tiers: list[Tier]) -> Tier | None:
    rank = account.tier.rank if account.tier else -1
    return next((tier for tier in tiers if tier.rank > rank), None)


def _tier_status(account: LoyaltyAccount, tiers: list[Tier], value: Decimal) -> list[TierStatus]:
    if account.tier is None:
        return []
    program = account.program
    following = _next_tier(account, tiers)
    next_tier = None
    if following is not None:
        next_tier = NextTier(
            tier=following,
            threshold=qualifying_number(program, following.threshold),
            gap=_gap(program, following.threshold, value),
        )
    return [
        TierStatus(
            tier=account.tier,
            since=account.tier_achieved_at,
            expdate=account.tier_expires_at,
            threshold=qualifying_number(program, account.tier.threshold),
            points=qualifying_number(program, value),
            next=next_tier,
        )
    ]


def _upgrade(account: LoyaltyAccount, tiers: list[Tier], value: Decimal) -> Upgrade | None:
    following = _next_tier(account, tiers)
    if following is None:
        return None
    program = account.program
    return Upgrade(
        based_on=program.tier_qualification,
        current_value=qualifying_number(program, value),
        next_tier=following,
        threshold=qualifying_number(program, following.threshold),
        gap=_gap(program, following.threshold, value),
        window_days=program.tier_window_days,
    )


def _renewal(account: LoyaltyAccount, tiers: list[Tier], now: datetime) -> Renewal | None:
    """What keeps the tier at its expiry. The value is the one that will still count on the expiry date (the
    window then ends at the expiry date, so older points drop out); an expiry already past is judged now, as
    the expiry job would."""
    tier, expdate = account.tier, account.tier_expires_at
    if tier is None or expdate is None or not tiers or tier.rank == tiers[0].rank:
        return None
    program = account.program
    value = qualifying_value(account=account, now=max(expdate, now))
    return Renewal(
        tier=tier,
        expdate=expdate,
        keep_threshold=qualifying_number(program, tier.keep_threshold),
        current_value=qualifying_number(program, value),
        gap=_gap(program, tier.keep_threshold, value),
        renew_confirmed=decision_at_expiry(tiers, tier, value).renewed,
    )


def _expiry_schedule(account: LoyaltyAccount) -> list[ExpiryScheduleEntry]:
    """Points left in open lots, summed per (UTC) expiry date, soonest first. Lots that never expire are not
    listed: they have no date to show."""
    by_date: dict[date, int] = defaultdict(int)
    for lot in open_lots(account):
        if lot.expires_at is not None:
            by_date[timezone.localtime(lot.expires_at).date()] += lot.remaining  # type: ignore[attr-defined]
    return [ExpiryScheduleEntry(points=points, expdate=day) for day, points in sorted(by_date.items())]


def customer_overview_get(
    *, customer: Customer, account: LoyaltyAccount | None, embeds: frozenset[str], now: datetime | None = None
) -> CustomerOverview:
    """The customer 360 view of `customer` and their account in the default program (None: a guest).

    Runs a fixed number of queries whatever the number of purchases, lots or addresses: balances, purchase
    totals, the program's tiers and the qualifying value always, plus one per embed (two for renewal)."""
    unknown = set(embeds) - set(CUSTOMER_EMBEDS)
    if unknown:
        raise ValueError(f"Unknown embeds: {sorted(unknown)}")
    now = now or timezone.now()
    addresses = None
    if "addresses" in embeds:
        addresses = list(Address.objects.filter(customer=customer).order_by("position", "id"))
    state = _customer_state(customer, account)
    if account is None:
        return CustomerOverview(
            customer=customer,
            account=None,
            state=state,
            currency=None,
            balances=NO_BALANCES,
            purchase_count=0,
            purchase_total=Decimal("0.00"),
            tiers=[],
            embeds=embeds,
            expiry_schedule=[] if "expiry_schedule" in embeds else None,
            transactions=[] if "transactions" in embeds else None,
            addresses=addresses,
        )
    tiers = list(account.program.tiers.order_by("rank"))
    value = qualifying_value(account=account, now=now)
    count, total = _purchase_totals(account)
    transactions = None
    if "transactions" in embeds:
        transactions = list(account.purchases.order_by("-purchased_at", "-id")[:RECENT_TRANSACTIONS])
    return CustomerOverview(
        customer=customer,
        account=account,
        state=state,
        currency=account.program.currency,
        balances=account_balances(account),
        purchase_count=count,
        purchase_total=total,
        tiers=_tier_status(account, tiers, value),
        embeds=embeds,
        expiry_schedule=_expiry_schedule(account) if "expiry_schedule" in embeds else None,
        upgrade=_upgrade(account, tiers, value) if "upgrade" in embeds else None,
        renewal=_renewal(account, tiers, now) if "renewal" in embeds else None,
        transactions=transactions,
        addresses=addresses,
    )


def account_for_preview(*, account: LoyaltyAccount | None) -> LoyaltyAccount:
    """The account whose earning rule a points preview applies: the customer's own, or for a guest (or no
    customer at all) an unsaved stand-in in the default program's entry tier. Raises NO_DEFAULT_PROGRAM."""
    if account is not None:
        return account
    program = program_get_default_with_tiers()
    entry_tier = program.tiers_by_rank[0] if program.tiers_by_rank else None  # type: ignore[attr-defined]
    return LoyaltyAccount(program=program, tier=entry_tier)


# ----------------------------------------------------------------------------- Clienteling SPI support

RECENT_ORDERS = 10


def _ledger_sum(condition: Q) -> Coalesce:
    entries = (
        PointsEntry.objects.filter(condition, account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return Coalesce(Subquery(entries, output_field=IntegerField()), 0)


def _qualifying_annotations(now: datetime) -> dict[str, Coalesce]:
    """loyalty.services.tiers.qualifying_value as two correlated subqueries (points and spend, the program says
    which one counts), so that a page of accounts gets them without a query per account. The window start is
    computed in SQL from each account's own program. A test holds the two definitions equal."""
    # Typed as a plain integer: SQLite's duration arithmetic refuses PositiveIntegerField operands.
    days = ExpressionWrapper(F("account__program__tier_window_days"), output_field=IntegerField())
    window_days = ExpressionWrapper(days * Value(timedelta(days=1)), output_field=DurationField())
    since = ExpressionWrapper(Value(now) - window_days, output_field=DateTimeField())
    points = (
        PointsEntry.objects.filter(qualifying_points_filter(), account=OuterRef("pk"), created_at__gt=since)
        .order_by()
        .values("account")
        .annotate(total=Sum("points"))
        .values("total")
    )
    spend = (
        Purchase.objects.filter(
            account=OuterRef("pk"),
            purchased_at__gt=since,
            state__in=QUALIFYING_PURCHASE_STATES,
        )
        .order_by()
        .values("account")
        .annotate(total=Sum(F("total") - F("refunded_total")))
        .values("total")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return {
        "qualifying_points": Coalesce(Subquery(points, output_field=IntegerField()), 0),
        "qualifying_spend": Coalesce(Subquery(spend, output_field=money), Value(Decimal("0")), output_field=money),
    }


def _next_tier_annotations() -> dict[str, Subquery]:
    following = Tier.objects.filter(program=OuterRef("program"), rank__gt=OuterRef("tier__rank")).order_by("rank")
    return {
        "next_tier_code": Subquery(following.values("code")[:1]),
        "next_tier_threshold": Subquery(following.values("threshold")[:1]),
    }


def loyalty_accounts_with_activity_prefetch(*, now: datetime | None = None) -> Prefetch:
    """Each customer's accounts, default program first, in `customer.loyalty_accounts_prefetched`, each carrying
    its ledger balances (`pending_points`, `reserved_points`, `lifetime_points`), its qualifying value
    (`qualifying_points` / `qualifying_spend`), the next tier (`next_tier_code`, `next_tier_threshold`) and its latest
    RECENT_ORDERS purchases (`recent_purchases`). Two queries for any number of customers, accounts and purchases."""
    now = now or timezone.now()
    recent = Purchase.objects.order_by("-purchased_at", "-id")[:RECENT_ORDERS]
    accounts = (
        _accounts_queryset()
        .annotate(
            pending_points=_ledger_sum(Q(bucket=Bucket.PENDING)),
            reserved_points=_ledger_sum(Q(bucket=Bucket.RESERVED)),
            lifetime_points=_ledger_sum(Q(is_lot=True, kind__in=[Kind.EARN, Kind.ADJUST])),
            **_qualifying_annotations(now),
            **_next_tier_annotations(),
        )
        .prefetch_related(Prefetch("purchases", queryset=recent, to_attr="recent_purchases"))
    )
    return Prefetch("loyalty_accounts", queryset=accounts, to_attr="loyalty_accounts_prefetched")


def customer_order_count_annotation() -> Coalesce:
    """For Customer querysets: how many purchases the customer made (in any program) that were not rejected."""
    counted = (
        Purchase.objects.filter(COUNTED_PURCHASES, account__customer=OuterRef("pk"))
        .order_by()
        .values("account__customer")
        .annotate(count=Count("id"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
