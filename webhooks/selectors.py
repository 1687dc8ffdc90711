from datetime import datetime

from webhooks import conf
from webhooks.catalogue import event_type_is_subscribed
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


def webhook_endpoints_subscribed(*, event_type: str, occurred_at: datetime) -> list[WebhookEndpoint]:
    """The endpoints an event goes to: active and subscribed to its type now, and receiving events when it
    occurred (created, and re-enabled if ever, at or before `occurred_at`). Fan-out may come long after the event
    (a backlog, a broker outage): an endpoint never gets what happened before it was there to receive it."""
    receiving = WebhookEndpoint.objects.filter(is_active=True, created_at__lte=occurred_at).exclude(
        reenabled_at__gt=occurred_at
    )
    # Endpoints are few; filtering the JSON list in Python works on every database (SQLite has no JSON contains).
    return [
        endpoint
        for endpoint in receiving.order_by("pk")
        if event_type_is_subscribed(subscribed=endpoint.event_types, event_type=event_type)
    ]


def webhook_events_not_fanned_out(*, now: datetime) -> list[int]:
    """Events whose fan-out task has had its grace period and still has not run: its message was lost."""
    queryset = WebhookEvent.objects.filter(fanned_out_at__isnull=True, created_at__lte=now - conf.sweep_grace())
    return list(queryset.order_by("created_at").values_list("pk", flat=True)[: conf.sweep_batch_size()])


def webhook_deliveries_due(*, now: datetime) -> list[int]:
    """Pending deliveries that have been due for the grace period, to active endpoints, oldest first."""
    queryset = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now - conf.sweep_grace(),
        endpoint__is_active=True,
    )
    return list(queryset.order_by("next_attempt_at").values_list("pk", flat=True)[: conf.sweep_batch_size()])


def webhook_deliveries_stuck(*, now: datetime) -> list[int]:
    """Deliveries claimed so long ago that the worker sending them must have died."""
    queryset = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - conf.stuck_after()
    )
    return list(queryset.order_by("claimed_at").values_list("pk", flat=True)[: conf.sweep_batch_size()])
