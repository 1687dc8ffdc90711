from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel
from crm.validators import validate_language

SESSION_CHANNELS = ("web", "pos", "mobile")
# The range of Scan & Go's spotCheckBias; every bias or delta stored is within it (and the sum is clamped to it).
SPOT_CHECK_BIAS_MIN = -100
SPOT_CHECK_BIAS_MAX = 100


def _session_channels() -> list[str]:
    return list(SESSION_CHANNELS)


def _spot_check_bias_validators() -> list:
    return [MinValueValidator(SPOT_CHECK_BIAS_MIN), MaxValueValidator(SPOT_CHECK_BIAS_MAX)]


def _session_channels_validate(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(SESSION_CHANNELS) or len(set(value)) != len(value):
        raise ValidationError(
            "Choose distinct channels among: %(known)s.", code="channels", params={"known": ", ".join(SESSION_CHANNELS)}
        )


# A program's periods (return window, points expiry, tier window and validity) are at most ten years: dates computed
# from a larger number of days can overflow (datetime's year 9999), which would fail every checkout of the program.
PROGRAM_DAYS_MAX = 3660


class Program(TimeStampedModel):
    """A loyalty program. One is the default: the one POS sign-ups enrol into."""

    class Rounding(models.TextChoices):
        DOWN = "down", "Round down"
        HALF_UP = "half_up", "Round half up"
        UP = "up", "Round up"

    class EarnBasis(models.TextChoices):
        TRANSACTION = "transaction", "Per transaction (on the eligible total)"
        ITEM = "item", "Per item (each line rounded)"

    class TierQualification(models.TextChoices):
        POINTS = "points", "Points earned in the qualifying window"
        SPEND = "spend", "Spend in the qualifying window"

    class NegativeBalancePolicy(models.TextChoices):
        OWE = "owe", "The customer owes the points (negative balance, repaid by later earnings)"
        FORGIVE = "forgive", "Take back only what is left; forgive the rest"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default="USD")
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    earn_rate = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("1"), help_text="Points per currency unit spent."
    )
    earn_rounding = models.CharField(max_length=16, choices=Rounding.choices, default=Rounding.DOWN)
    earn_basis = models.CharField(max_length=16, choices=EarnBasis.choices, default=EarnBasis.TRANSACTION)
    excluded_products = models.JSONField(
        default=list, blank=True, help_text="Product ids or categories that earn no points (gift cards, tobacco)."
    )
    pending_days = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(PROGRAM_DAYS_MAX)],
        help_text="Return window: points stay pending this many days before they can be spent.",
    )
    points_expiry_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(PROGRAM_DAYS_MAX)],
        help_text="Points expire this many days after they are confirmed; empty: never.",
    )
    burn_value = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0.01"), help_text="Currency value of one point."
    )
    tier_qualification = models.CharField(
        max_length=16, choices=TierQualification.choices, default=TierQualification.POINTS
    )
    tier_window_days = models.PositiveIntegerField(
        default=365, validators=[MaxValueValidator(PROGRAM_DAYS_MAX)], help_text="Qualifying window for tiers, in days."
    )
    tier_validity_days = models.PositiveIntegerField(
        default=365,
        validators=[MaxValueValidator(PROGRAM_DAYS_MAX)],
        help_text="A tier reached or renewed is kept this many days.",
    )
    negative_balance_policy = models.CharField(
        max_length=16, choices=NegativeBalancePolicy.choices, default=NegativeBalancePolicy.OWE
    )
    auto_enrol_channels = models.JSONField(
        default=_session_channels,
        blank=True,
        validators=[_session_channels_validate],
        help_text="Channels (web, pos, mobile) on which a shopper session enrols a new shopper; empty: never.",
    )
    default_language = models.CharField(
        max_length=16,
        default="en",
        validators=[validate_language],
        help_text="Language of customer-facing messages (such as Scan & Go denials) when the customer has none "
        "or one we do not speak.",
    )
    card_number_strip_leading_zeros = models.BooleanField(
        default=True,
        help_text="Card numbers are compared without leading zeros (scanners often add them: 0012345 is 12345). "
        "Applies to cards issued after a change; cards issued before still match as they were stored.",
    )

    class Meta:
        ordering = ("code",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("is_default",), condition=Q(is_default=True), name="one_default_program"),
            models.CheckConstraint(condition=Q(earn_rate__gte=0), name="program_earn_rate_not_negative"),
            models.CheckConstraint(condition=Q(burn_value__gt=0), name="program_burn_value_positive"),
            models.CheckConstraint(
                condition=Q(pending_days__lte=PROGRAM_DAYS_MAX)
                & (Q(points_expiry_days__isnull=True) | Q(points_expiry_days__lte=PROGRAM_DAYS_MAX))
                & Q(tier_window_days__lte=PROGRAM_DAYS_MAX)
                & Q(tier_validity_days__lte=PROGRAM_DAYS_MAX),
                name="program_periods_at_most_ten_years",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(TimeStampedModel):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    rank = models.PositiveIntegerField(help_text="0 is the entry tier; higher ranks are better.")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=100)
    title = models.CharField(max_length=100, blank=True)
    subtitle = models.CharField(max_length=200, blank=True)
    threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Qualifying value (points or spend, as the program says) needed to reach this tier.",
    )
    renewal_threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Qualifying value needed to keep the tier at its expiry; empty: the entry threshold.",
    )
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"))
    benefits = models.TextField(blank=True)
    spot_check_bias = models.SmallIntegerField(
        default=0,
        validators=_spot_check_bias_validators(),
        help_text="Scan & Go spot-check bias of this tier's members, -100 (never checked) to 100 (more often).",
    )

    class Meta:
        ordering = ("program", "rank")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("program", "code"), name="tier_code_unique_per_program"),
            models.UniqueConstraint(fields=("program", "rank"), name="tier_rank_unique_per_program"),
            models.CheckConstraint(
                condition=Q(spot_check_bias__gte=SPOT_CHECK_BIAS_MIN) & Q(spot_check_bias__lte=SPOT_CHECK_BIAS_MAX),
                name="tier_spot_check_bias_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program.code})"

    @property
    def keep_threshold(self) -> Decimal:
        return self.threshold if self.renewal_threshold is None else self.renewal_threshold


class LoyaltyAccount(TimeStampedModel):
    """A customer's membership of a program: the SPI `loyaltyProfile`."""

    class State(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled"
        GUEST = "guest", "Guest"
        BLOCKED = "blocked", "Blocked"

    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="loyalty_accounts")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="accounts")
    account_number = models.CharField(max_length=32, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ENROLLED)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tier_achieved_at = models.DateTimeField(null=True, blank=True)
    tier_expires_at = models.DateTimeField(null=True, blank=True)
    address = models.ForeignKey("crm.Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enrolled_at = models.DateTimeField(null=True, blank=True)
    enrolled_store = models.ForeignKey("crm.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Cached spendable balance of the ledger: written only by loyalty/services/ledger.py, in the same
    # transaction as the entries and under the account's row lock; tests prove it equals the ledger.
    points_balance = models.IntegerField(default=0)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    store_credit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    spot_check_bias_override = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=_spot_check_bias_validators(),
        help_text="Scan & Go spot-check bias for this member instead of the tier's, -100 to 100; empty: the "
        "tier's. Risk rules still add to it.",
    )

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("customer", "program"), name="one_account_per_customer_and_program"),
            models.CheckConstraint(
                condition=Q(spot_check_bias_override__isnull=True)
                | (
                    Q(spot_check_bias_override__gte=SPOT_CHECK_BIAS_MIN)
                    & Q(spot_check_bias_override__lte=SPOT_CHECK_BIAS_MAX)
                ),
                name="account_spot_check_bias_override_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.account_number


class Purchase(TimeStampedModel):
    """A checkout reported by a till or a web shop. `transaction_id` is its idempotency key within a program."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending (return window open)"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="purchases")
    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="purchases")
    transaction_id = models.CharField(max_length=100)
    store = models.ForeignKey("crm.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, blank=True)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    eligible_total = models.DecimalField(max_digits=14, decimal_places=2)
    items = models.JSONField(default=list, blank=True)
    points_base = models.IntegerField(default=0)
    points_bonus = models.IntegerField(default=0)
    points_earned = models.IntegerField(default=0)
    points_burned = models.IntegerField(default=0)
    refunded_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    points_taken_back = models.IntegerField(default=0)
    points_returned = models.IntegerField(default=0)
    points_forgiven = models.IntegerField(default=0)
    state = models.CharField(max_length=24, choices=State.choices)
    purchased_at = models.DateTimeField()
    confirm_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # What the first request said and was answered, so that a replay gets the same answer (or a 409).
    request_fingerprint = models.CharField(max_length=64)
    first_response = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-purchased_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("program", "transaction_id"), name="purchase_transaction_unique_per_program"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="purchase_total_not_negative"),
            models.CheckConstraint(condition=Q(points_burned__gte=0), name="purchase_points_burned_not_negative"),
        ]
        indexes: ClassVar = [models.Index(fields=("account", "-purchased_at"), name="purchase_account_recent")]

    def __str__(self) -> str:
        return self.transaction_id


class PointsEntry(models.Model):
    """The append-only points ledger. A row is never edited or deleted; corrections are new rows.

    Balances are sums of `points` per `bucket`. An entry with `lot` set consumes (negative) or gives back
    (positive) points of that earn lot; a lot's remaining points are its own points plus those entries.
    Spendable entries without a lot that are not lots themselves are debt (the customer owes points).
    """

    class Kind(models.TextChoices):
        EARN = "earn", "Earn"
        CONFIRM = "confirm", "Pending confirmed"
        CANCEL = "cancel", "Pending cancelled"
        BURN = "burn", "Burn"
        EXPIRE = "expire", "Expire"
        ADJUST = "adjust", "Adjustment"
        REFUND = "refund", "Refund"
        RESERVE = "reserve", "Reserve"
        RELEASE = "release", "Release"
        SETTLE = "settle", "Debt settled from new points"

    class Bucket(models.TextChoices):
        SPENDABLE = "spendable", "Spendable"
        PENDING = "pending", "Pending"
        RESERVED = "reserved", "Reserved"

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    bucket = models.CharField(max_length=16, choices=Bucket.choices)
    points = models.IntegerField()
    is_lot = models.BooleanField(default=False, help_text="An earn lot: spendable points with their own expiry.")
    lot = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    expires_at = models.DateTimeField(null=True, blank=True)
    purchase = models.ForeignKey(Purchase, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    reservation = models.CharField(max_length=100, blank=True, help_text="Transaction id a reservation is for.")
    idempotency_key = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=32, help_text="purchase, event, admin, system")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name_plural = "points entries"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("account", "idempotency_key"),
                condition=~Q(idempotency_key=""),
                name="points_entry_idempotency_key_unique_per_account",
            ),
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(is_lot=False) | (Q(points__gt=0) & Q(bucket="spendable") & Q(lot__isnull=True)),
                name="points_lot_is_positive_spendable",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("account", "bucket"), name="points_entry_account_bucket"),
            models.Index(fields=("expires_at",), condition=Q(is_lot=True), name="points_lot_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} ({self.bucket})"


class TierChange(models.Model):
    """History of tier moves, for the admin and for webhooks."""

    class Reason(models.TextChoices):
        ENROLMENT = "enrolment", "Enrolment"
        UPGRADE = "upgrade", "Upgrade"
        RENEWAL = "renewal", "Renewal"
        DOWNGRADE = "downgrade", "Downgrade at expiry"

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    qualifying_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    expires_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ("-changed_at", "-id")

    def __str__(self) -> str:
        return f"{self.from_tier} -> {self.to_tier} ({self.reason})"


def _channels_validate(value: object) -> None:
    known = set(CouponDefinition.Channel.values)
    if not isinstance(value, list) or not value or not set(value) <= known or len(set(value)) != len(value):
        raise ValidationError(
            "Choose one or more distinct channels among: %(known)s.",
            code="channels",
            params={"known": ", ".join(sorted(known))},
        )


def _all_channels() -> list[str]:
    return ["pos", "scan_and_go", "web"]


def _code_pattern_validate(value: str) -> None:
    from loyalty.coupon_codes import code_pattern_validate

    code_pattern_validate(value)


class CouponDefinition(TimeStampedModel):
    """A coupon as marketing configures it. Vouchers are its issued codes.

    Validity is the half-open window [valid_from, valid_until): valid from the first instant, no longer at the
    last. `value` is a percentage (0-100] for percent coupons, a currency amount (> 0) for amount coupons and
    unused (0) for free-item coupons, whose item is `product_id`.
    """

    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        AMOUNT = "amount", "Amount off"
        FREE_ITEM = "free_item", "Free item"

    class Channel(models.TextChoices):
        POS = "pos", "Point of sale"
        SCAN_AND_GO = "scan_and_go", "Scan & Go"
        WEB = "web", "Web shop"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="coupon_definitions")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    product_id = models.CharField(max_length=64, blank=True, help_text="The free item (free-item coupons only).")
    valid_from = models.DateTimeField(null=True, blank=True, help_text="Inclusive; empty: from the start.")
    valid_until = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty: no end.")
    channels = models.JSONField(default=_all_channels, validators=[_channels_validate])
    auto_apply = models.BooleanField(default=False, help_text="Tills apply it without the customer showing a code.")
    eligible_tiers = models.ManyToManyField(
        Tier, blank=True, related_name="coupon_definitions", help_text="Empty: every tier, and guests."
    )
    min_basket = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    limit_per_customer = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    limit_total = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    code_pattern = models.CharField(max_length=40, default="{code}", validators=[_code_pattern_validate])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("program", "code")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("program", "code"), name="coupon_definition_code_unique_per_program"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | (Q(value__gt=0) & Q(value__lte=100)),
                name="coupon_definition_percent_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind="amount") | Q(value__gt=0), name="coupon_definition_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="free_item") | (~Q(product_id="") & Q(value=0)),
                name="coupon_definition_free_item_has_product",
            ),
            models.CheckConstraint(condition=Q(min_basket__gte=0), name="coupon_definition_min_basket_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="coupon_definition_window_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(limit_per_customer__isnull=True) | Q(limit_per_customer__gte=1),
                name="coupon_definition_limit_per_customer_positive",
            ),
            models.CheckConstraint(
                condition=Q(limit_total__isnull=True) | Q(limit_total__gte=1),
                name="coupon_definition_limit_total_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Voucher(TimeStampedModel):
    """An issued coupon code, anonymous or bound to a customer: issued -> claimed -> redeemed, or expired or
    cancelled. `code` is shown and printed; `normalised_code` is what lookups compare (loyalty/coupon_codes.py).
    `origin` says which service issued it, and `batch` which bulk generation made it (migration 0010 derived both
    for vouchers issued before they existed; see there)."""

    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        CLAIMED = "claimed", "Claimed"
        REDEEMED = "redeemed", "Redeemed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class Origin(models.TextChoices):
        MANUAL = "manual", "Issued to a customer (service, admin, API)"
        BATCH = "batch", "Bulk generation"
        TIER_BENEFIT = "tier_benefit", "Tier benefit"
        AUTO_APPLY = "auto_apply", "Auto-applied at the till"

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT, related_name="vouchers")
    code = models.CharField(max_length=80, unique=True)
    normalised_code = models.CharField(max_length=80, unique=True, editable=False)
    customer = models.ForeignKey(
        "crm.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty: never.")
    redeemed_transaction_id = models.CharField(max_length=100, blank=True)
    redeemed_store = models.ForeignKey("crm.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    redemption_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    batch = models.ForeignKey("VoucherBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="vouchers")

    class Meta:
        ordering = ("-issued_at", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(status="redeemed")
                | (Q(redeemed_at__isnull=False) & ~Q(redeemed_transaction_id="") & Q(redemption_amount__gte=0)),
                name="voucher_redeemed_has_transaction",
            ),
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(customer__isnull=False), name="voucher_claimed_has_customer"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("customer", "status"), name="voucher_customer_status"),
            models.Index(fields=("definition", "status"), name="voucher_definition_status"),
            models.Index(
                fields=("expires_at",), condition=Q(status__in=("issued", "claimed")), name="voucher_live_expiry"
            ),
            # The dashboard's redemptions per coupon (a period of redeemed_at).
            models.Index(fields=("redeemed_at",), condition=Q(status="redeemed"), name="voucher_redeemed_at"),
            # The replay check of auto_apply_coupon_redeem: a coupon's voucher redeemed in a transaction, whoever's.
            models.Index(
                fields=("definition", "redeemed_transaction_id"),
                condition=Q(status="redeemed"),
                name="voucher_redeemed_transaction",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherBatch(TimeStampedModel):
    """A bulk generation of anonymous voucher codes, run by a Celery job (loyalty/services/voucher_batches.py).
    `issued_count` grows chunk by chunk as the job commits, so the admin shows its progress while it runs."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT, related_name="batches")
    requested_count = models.PositiveIntegerField()
    issued_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "voucher batches"
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(requested_count__gte=1), name="voucher_batch_requested_positive"),
            models.CheckConstraint(
                condition=Q(issued_count__lte=F("requested_count")), name="voucher_batch_issued_within_requested"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition.code}: {self.issued_count}/{self.requested_count} ({self.status})"

    @property
    def progress_percent(self) -> int:
        return self.issued_count * 100 // self.requested_count if self.requested_count else 0


# Ten years: a voucher valid longer is no campaign, and much larger values overflow its expiry date (year 9999),
# which would fail every enrolment or upgrade into the tier.
TIER_BENEFIT_VALIDITY_DAYS_MAX = 3660


class TierBenefitCoupon(TimeStampedModel):
    """A tier benefit: a voucher of `definition` issued to the customer on enrolment in `tier` and/or on each
    upgrade into it (loyalty/services/tier_benefits.py)."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="benefit_coupons")
    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT, related_name="tier_benefits")
    on_enrolment = models.BooleanField(default=False)
    on_upgrade = models.BooleanField(default=True)
    validity_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(TIER_BENEFIT_VALIDITY_DAYS_MAX)],
        help_text=f"Days the voucher is valid from its issue, 1 to {TIER_BENEFIT_VALIDITY_DAYS_MAX}; empty: until the "
        "coupon ends.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Off: the benefit is given to no one (grants already made stay)."
    )

    class Meta:
        ordering = ("tier", "definition")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("tier", "definition"), name="tier_benefit_coupon_unique"),
            models.CheckConstraint(
                condition=Q(on_enrolment=True) | Q(on_upgrade=True), name="tier_benefit_coupon_has_occasion"
            ),
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(validity_days__gte=1),
                name="tier_benefit_coupon_validity_positive",
            ),
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(validity_days__lte=TIER_BENEFIT_VALIDITY_DAYS_MAX),
                name="tier_benefit_coupon_validity_at_most_ten_years",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} -> {self.definition}"


class TierBenefitGrant(models.Model):
    """One tier benefit given (or refused) to one account for one occasion: the enrolment, or one TierChange.
    The unique constraint is what makes issuing tier benefits idempotent."""

    class Outcome(models.TextChoices):
        ISSUED = "issued", "Issued"
        REFUSED = "refused", "Refused"

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.CASCADE, related_name="benefit_grants")
    benefit = models.ForeignKey(TierBenefitCoupon, on_delete=models.CASCADE, related_name="grants")
    occasion = models.CharField(max_length=40, help_text='"enrolment", or "change:<TierChange pk>".')
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    voucher = models.ForeignKey(Voucher, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    refusal = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("account", "benefit", "occasion"), name="tier_benefit_grant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.benefit} for {self.account_id} ({self.occasion}: {self.outcome})"


class Card(TimeStampedModel):
    """A loyalty card (physical or digital) of an account: what Scan & Go devices and tills scan.

    `number` is as printed; `normalised_number` is what lookups compare (loyalty/card_numbers.py), unique across
    programs so that a scan names one card. A replaced card points at its successor.
    """

    class Kind(models.TextChoices):
        PHYSICAL = "physical", "Physical"
        DIGITAL = "digital", "Digital (app, wallet)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"
        LOST = "lost", "Lost"
        STOLEN = "stolen", "Stolen"
        REPLACED = "replaced", "Replaced"

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="cards")
    number = models.CharField(max_length=64)
    normalised_number = models.CharField(max_length=64, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PHYSICAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty: never.")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=200, blank=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("-issued_at", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(normalised_number=""), name="card_normalised_number_not_empty"),
            models.CheckConstraint(
                condition=~Q(status="replaced") | Q(replaced_by__isnull=False), name="card_replaced_has_successor"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=("account", "status"), name="card_account_status")]

    def __str__(self) -> str:
        return self.number


class ScanAndGoPolicy(TimeStampedModel):
    """How a program answers Scan & Go devices (GET /customer-profile): who may unlock, and what comes with it.

    `config_version` is bumped by every change made through loyalty/services/scan_and_go.py (policy,
    store overrides, messages, risk rules); the profile endpoint reads it in its one lookup query and reloads
    its in-process copy of the configuration when it moved (see loyalty/selectors/scan_and_go.py).
    """

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="scan_and_go_policy")
    unlocking_allowed = models.BooleanField(
        default=True, help_text="Off: no device unlocks for anyone in this program (Scan & Go switched off)."
    )
    deny_blocked_customer = models.BooleanField(default=True)
    deny_blocked_account = models.BooleanField(default=True)
    deny_guest_account = models.BooleanField(
        default=False,
        help_text="Members only: shoppers who opted out of the loyalty program (guests) are asked to rejoin. Off: "
        "they unlock, without points or coupons.",
    )
    deny_blocked_card = models.BooleanField(default=True, help_text="Blocked, lost, stolen or replaced cards.")
    deny_expired_card = models.BooleanField(default=True)
    require_terms_consent = models.BooleanField(
        default=False, help_text="Only customers who agreed to the terms and conditions may unlock."
    )
    unlocking_station_device_types = models.CharField(
        max_length=200,
        default="unlocking_station",
        blank=True,
        help_text="Comma-separated deviceType values that are unlocking stations (staffed or fixed); in stores "
        "that do not allow self-unlocking only these unlock.",
    )
    include_coupons = models.BooleanField(default=True, help_text="Send auto-applied coupons to the device.")
    config_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "Scan & Go policy"
        verbose_name_plural = "Scan & Go policies"

    def __str__(self) -> str:
        return f"Scan & Go policy of {self.program}"


class ScanAndGoStoreOverride(TimeStampedModel):
    """What one store does differently from its program's Scan & Go policy."""

    policy = models.ForeignKey(ScanAndGoPolicy, on_delete=models.CASCADE, related_name="store_overrides")
    store = models.ForeignKey("crm.Store", on_delete=models.CASCADE, related_name="+")
    unlocking_allowed = models.BooleanField(default=True, help_text="Off: Scan & Go is switched off in this store.")
    self_unlocking_allowed = models.BooleanField(
        default=True, help_text="Off: only unlocking stations unlock (carts and handhelds cannot unlock themselves)."
    )
    require_terms_consent = models.BooleanField(null=True, blank=True, help_text="Empty: as the program's policy says.")
    spot_check_bias_delta = models.SmallIntegerField(
        default=0,
        validators=_spot_check_bias_validators(),
        help_text="Added to every shopper's spot-check bias in this store, -100 to 100.",
    )

    class Meta:
        ordering = ("policy", "store")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("policy", "store"), name="scan_and_go_override_unique_per_store"),
            models.CheckConstraint(
                condition=Q(spot_check_bias_delta__gte=SPOT_CHECK_BIAS_MIN)
                & Q(spot_check_bias_delta__lte=SPOT_CHECK_BIAS_MAX),
                name="scan_and_go_override_bias_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store} ({self.policy.program})"


class ScanAndGoDenialMessage(TimeStampedModel):
    """A program's own wording of one denial reason in one language, instead of the translated default."""

    class Reason(models.TextChoices):
        CUSTOMER_BLOCKED = "customer_blocked", "Customer blocked"
        ACCOUNT_BLOCKED = "account_blocked", "Loyalty account blocked"
        NOT_A_MEMBER = "not_a_member", "Shopper opted out of the loyalty program (members only)"
        CARD_BLOCKED = "card_blocked", "Card blocked, lost or stolen"
        CARD_REPLACED = "card_replaced", "Card replaced by a newer card"
        CARD_EXPIRED = "card_expired", "Card expired"
        TERMS_NOT_ACCEPTED = "terms_not_accepted", "Terms and conditions not accepted"
        UNLOCKING_DISABLED = "unlocking_disabled", "Scan & Go switched off (program or store)"
        SELF_UNLOCKING_NOT_ALLOWED = "self_unlocking_not_allowed", "Store allows unlocking only at a station"

    policy = models.ForeignKey(ScanAndGoPolicy, on_delete=models.CASCADE, related_name="denial_messages")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    language = models.CharField(max_length=16, choices=settings.LANGUAGES)
    message = models.CharField(max_length=200)

    class Meta:
        ordering = ("policy", "reason", "language")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("policy", "reason", "language"), name="scan_and_go_message_unique_per_reason_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} [{self.language}]"


class SpotCheckRiskRule(TimeStampedModel):
    """A configurable adjustment of the spot-check bias: when the condition holds, `delta` is added."""

    class Condition(models.TextChoices):
        NO_PURCHASES = "no_purchases", "No purchases yet"
        ACCOUNT_YOUNGER_THAN_DAYS = "account_younger_than_days", "Member for fewer than N days"
        TIER_RANK_AT_LEAST = "tier_rank_at_least", "Tier rank at least N"
        TIER_RANK_AT_MOST = "tier_rank_at_most", "Tier rank at most N"
        CUSTOMER_GROUP_EQUALS = "customer_group_equals", "Customer group equals"
        TERMS_NOT_ACCEPTED = "terms_not_accepted", "Terms and conditions not accepted"

    policy = models.ForeignKey(ScanAndGoPolicy, on_delete=models.CASCADE, related_name="risk_rules")
    name = models.CharField(max_length=100)
    condition = models.CharField(max_length=32, choices=Condition.choices)
    parameter = models.CharField(
        max_length=64, blank=True, help_text="N for the 'N' conditions (a whole number), the group for groups."
    )
    delta = models.SmallIntegerField(validators=_spot_check_bias_validators(), help_text="-100 to 100.")
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("policy", "position", "id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(delta__gte=SPOT_CHECK_BIAS_MIN) & Q(delta__lte=SPOT_CHECK_BIAS_MAX),
                name="spot_check_rule_delta_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from loyalty.rules.spot_check import risk_rule_parameter_error

        error = risk_rule_parameter_error(self.condition, self.parameter)
        if error:
            raise ValidationError({"parameter": error})


class ScanAndGoMember(LoyaltyAccount):
    """A loyalty account seen from Scan & Go: its own admin page, where store managers set the spot-check bias
    override without the permissions of the loyalty account page (points adjustments)."""

    class Meta:
        proxy = True
        verbose_name = "Scan & Go member"
        verbose_name_plural = "Scan & Go members"
