"""Coupons as marketing configures them, their issued vouchers, bulk generations and tier benefits."""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel
from loyalty.models.accounts import LoyaltyAccount
from loyalty.models.programs import Program, Tier


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
