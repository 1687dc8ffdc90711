import threading
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class EndpointReceiving:
    """What an active endpoint receives: its subscribed types ([] or ["*"]: all) and the moment it started receiving
    (created, or re-enabled if later)."""

    event_types: tuple[str, ...]
    receiving_from: datetime

    def receives(self, *, event_type: str, occurred_at: datetime) -> bool:
        return occurred_at >= self.receiving_from and event_type_is_subscribed(
            subscribed=self.event_types, event_type=event_type
        )


def webhook_endpoints_receiving() -> list[EndpointReceiving]:
    """Every active endpoint as EndpointReceiving, read now (one query; endpoints are few)."""
    rows = WebhookEndpoint.objects.filter(is_active=True).values_list("event_types", "created_at", "reenabled_at")
    return [
        EndpointReceiving(event_types=tuple(types or ()), receiving_from=max(created_at, reenabled_at or created_at))
        for types, created_at, reenabled_at in rows.order_by("pk")
    ]


class _ReceivingCache:
    """The active endpoints, read at most once per WEBHOOK_RECEIVERS_CACHE_SECONDS in this process: every change
    (checkout, profile update) emits events, and most installations have no endpoint for most of them. The endpoint
    services clear it in their own process; another process may answer from a copy up to that many seconds old,
    which the sweeper makes good (see webhook_event_has_receivers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = -float("inf")
        self._endpoints: list[EndpointReceiving] = []

    def endpoints(self) -> list[EndpointReceiving]:
        now = time.monotonic()
        if now - self._loaded_at < conf.receivers_cache_seconds():
            return self._endpoints
        endpoints = webhook_endpoints_receiving()
        with self._lock:
            self._endpoints, self._loaded_at = endpoints, now
        return endpoints

    def clear(self) -> None:
        with self._lock:
            self._loaded_at = -float("inf")


receiving_cache = _ReceivingCache()


def webhook_event_has_receivers(*, event_type: str, occurred_at: datetime) -> bool:
    """Whether some endpoint would get this event when it is fanned out, per this process's cached copy of the
    endpoints. A False can be stale only for an endpoint created or changed in another process within the cache's
    lifetime: its event is left not fanned out (no task queued), and the sweeper fans it out after its grace period
    like any event whose task message was lost, so that endpoint still gets it, a sweep late."""
    return any(
        endpoint.receives(event_type=event_type, occurred_at=occurred_at) for endpoint in receiving_cache.endpoints()
    )


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
