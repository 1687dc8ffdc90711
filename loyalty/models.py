from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Program(TimeStampedModel):
    """A loyalty program. One is the default: the one POS sign-ups enrol into."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default="USD")
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("code",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("is_default",), condition=Q(is_default=True), name="one_default_program"),
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

    class Meta:
        ordering = ("program", "rank")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("program", "code"), name="tier_code_unique_per_program"),
            models.UniqueConstraint(fields=("program", "rank"), name="tier_rank_unique_per_program"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program.code})"


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
    # Cached balance of the points ledger; only the ledger services write it, under a row lock.
    points_balance = models.IntegerField(default=0)
    store_credit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("customer", "program"), name="one_account_per_customer_and_program"),
        ]

    def __str__(self) -> str:
        return self.account_number
