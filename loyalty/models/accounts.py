"""A customer's membership of a program: the account, its cards and its tier history."""

from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from loyalty.models.programs import SPOT_CHECK_BIAS_MAX, SPOT_CHECK_BIAS_MIN, Program, Tier, spot_check_bias_validators


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
        validators=spot_check_bias_validators(),
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
