"""Purchases reported by tills and web shops, and the append-only points ledger they write."""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from loyalty.models.accounts import LoyaltyAccount
from loyalty.models.programs import Program


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
        indexes: ClassVar = [
            models.Index(fields=("account", "-purchased_at"), name="purchase_account_recent"),
            # A store's latest purchases and its purchases of a day (the back office's clienteling home).
            models.Index(fields=("store", "-purchased_at"), name="purchase_store_recent"),
        ]

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
