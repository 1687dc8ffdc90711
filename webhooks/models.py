"""Outbound webhooks as data: the outbox of events, the endpoints, one delivery per (endpoint, event) and the
history of its attempts. DESIGN.md section 6; the flow is described in docs/webhooks.md."""

import json
from typing import Any, ClassVar

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel

RESPONSE_BODY_LIMIT = 1024


class WebhookEndpoint(TimeStampedModel):
    class PayloadFormat(models.TextChoices):
        # webhooks/payload_formats.py renders each at delivery.
        STANDARD = "standard", "Standard Webhooks envelope"
        ANTAVO = "antavo", "Antavo flat body (voucher_claimed and the others, for receivers built for Antavo)"

    url = models.CharField(max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    description = models.CharField(max_length=200, blank=True)
    # Needed in clear to sign; shown once when created or rotated, never again (not in any admin form).
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(
        default=list, blank=True, help_text='Subscribed event types; [] or ["*"] receives every type.'
    )
    payload_format = models.CharField(
        max_length=16,
        choices=PayloadFormat.choices,
        default=PayloadFormat.STANDARD,
        help_text="The body each delivery carries; Standard Webhooks headers and signatures either way.",
    )
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # An endpoint receives the events that occurred since it was created, or since it was last re-enabled.
    reenabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt since the last success; disabled after 5 days."
    )

    class Meta:
        ordering = ("url", "id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(is_active=True) | Q(disabled_at__isnull=False), name="webhook_endpoint_disabled_at_set"
            ),
        ]

    def __str__(self) -> str:
        return self.url if self.is_active else f"{self.url} (disabled)"


class WebhookEvent(models.Model):
    """The outbox: written in the transaction of the change it reports, so it exists exactly when the change does."""

    public_id = models.CharField(max_length=40, unique=True, editable=False, help_text="Sent as webhook-id.")
    type = models.CharField(max_length=64, db_index=True)
    entity_id = models.CharField(max_length=200, db_index=True)
    # The envelope exactly as sent and signed; text rather than JSON so every retry sends the same bytes
    # (PostgreSQL's jsonb would reorder the keys).
    body = models.TextField()
    created_at = models.DateTimeField(db_index=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes: ClassVar = [
            models.Index(
                fields=("created_at",), condition=Q(fanned_out_at__isnull=True), name="webhook_event_not_fanned_out"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"

    def envelope(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookDelivery(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0, help_text="Attempts made, replays included.")
    # Position in the retry schedule: reset by a replay, which starts the schedule again.
    attempts_in_cycle = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name_plural = "webhook deliveries"
        permissions: ClassVar = [("replay_webhookdelivery", "Can replay webhook deliveries")]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("endpoint", "event"), name="webhook_delivery_once_per_endpoint"),
        ]
        indexes: ClassVar = [
            # The sweeper's two questions: what is due (pending by next_attempt_at), what is stuck (sending by
            # claimed_at).
            models.Index(fields=("status", "next_attempt_at"), name="webhook_delivery_due"),
            models.Index(fields=("status", "claimed_at"), name="webhook_delivery_claimed"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class WebhookDeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 1 KB of the response.")
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("delivery", "number")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("delivery", "number"), name="webhook_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
