from typing import ClassVar

from django.db import models
from django.db.models import Q


class TimeStampedModel(models.Model):
    """Base for domain models: creation and modification times, set by the database layer, never by hand."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` a client sent to a POST endpoint, Stripe-style (see core/idempotency.py).

    `owner` says whose key it is (keys are scoped per API client, so two clients may use the same key). The row
    is the claim: inserted before the work starts (in the work's transaction, or committed first when the work
    is many transactions), so that a duplicate finds it instead of writing twice; it keeps the response of a
    successful request for 24 hours, to be replayed.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    owner = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("owner", "key"), name="idempotency_key_unique_per_owner"),
            models.CheckConstraint(
                condition=Q(state="in_progress") | Q(response_status__isnull=False),
                name="idempotency_completed_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key} ({self.state})"
