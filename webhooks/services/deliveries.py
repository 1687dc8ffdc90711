"""Fan-out, delivery, retries, replay and the sweeper.

At-least-once: a delivery is claimed by a compare-and-set on its status before it is sent, so two workers never
send the same attempt, and every claim either records a result or is reclaimed by the sweeper once it is older
than WEBHOOK_STUCK_AFTER_SECONDS. The schedule lives in the database (`next_attempt_at`); task messages only
make it prompt, so a lost message delays a delivery by about a sweep and never loses it.
"""

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.enqueue import enqueue_after_commit
from core.exceptions import ApplicationError
from webhooks import conf
from webhooks.catalogue import ALL_EVENTS
from webhooks.error_codes import WebhookErrorCode
from webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint, WebhookEvent
from webhooks.payload_formats import delivery_body
from webhooks.selectors import (
    webhook_deliveries_due,
    webhook_deliveries_stuck,
    webhook_endpoints_receiving,
    webhook_endpoints_subscribed,
    webhook_events_not_fanned_out,
)
from webhooks.services.endpoints import webhook_endpoint_disable
from webhooks.signing import signed_headers
from webhooks.tasks import webhook_delivery_send_task, webhook_event_fan_out_task
from webhooks.transport import TransportResult, webhook_post

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    TERMINAL = "terminal"
    GONE = "gone"


def outcome_of(result: TransportResult) -> Outcome:
    """2xx succeeds; 410 is terminal and disables the endpoint; other 4xx are terminal, except 408 and 429;
    3xx, 5xx, timeouts and connection errors are retried."""
    code = result.status_code
    if code is None:
        return Outcome.RETRY
    if 200 <= code < 300:
        return Outcome.SUCCEEDED
    if code == 410:
        return Outcome.GONE
    if 400 <= code < 500 and code not in (408, 429):
        return Outcome.TERMINAL
    return Outcome.RETRY


def _enqueue_send(delivery_pk: int, countdown: int = 0) -> None:
    enqueue_after_commit(webhook_delivery_send_task, delivery_pk, countdown=countdown)


@transaction.atomic
def webhook_event_fan_out(*, event_pk: int) -> list[WebhookDelivery]:
    """Create one delivery per endpoint the event goes to (webhook_endpoints_subscribed) and queue them; returns
    the new ones. Safe to run twice: (endpoint, event) is unique and an event is fanned out once."""
    event = WebhookEvent.objects.get(pk=event_pk)
    if event.fanned_out_at is not None:
        return []
    now = timezone.now()
    created = []
    for endpoint in webhook_endpoints_subscribed(event_type=event.type, occurred_at=event.created_at):
        delivery, was_created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, event=event, defaults={"next_attempt_at": now}
        )
        if was_created:
            created.append(delivery)
            _enqueue_send(delivery.pk)
    WebhookEvent.objects.filter(pk=event.pk, fanned_out_at__isnull=True).update(fanned_out_at=now)
    return created


def webhook_delivery_attempt(*, delivery_pk: int, task_id: str = "") -> WebhookDelivery | None:
    """Claim the delivery if it is due, POST it once, record the attempt and schedule what follows.

    Returns None, having sent nothing, when the delivery is not pending, not yet due, claimed by another worker,
    or its endpoint is disabled. Holds no transaction while the request is in flight.
    """
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").filter(pk=delivery_pk).first()
    if delivery is None or delivery.status != Status.PENDING or not delivery.endpoint.is_active:
        return None
    claimed_at = timezone.now()
    # The compare-and-set that makes the attempt ours: of two workers, the second matches no row. It filters
    # on this table's columns only, which PostgreSQL re-checks on the locked row.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_pk, status=Status.PENDING, next_attempt_at__lte=claimed_at
    ).update(
        status=Status.SENDING,
        claimed_at=claimed_at,
        attempt_count=F("attempt_count") + 1,
        attempts_in_cycle=F("attempts_in_cycle") + 1,
        updated_at=claimed_at,
    )
    if claimed != 1:
        return None
    delivery.refresh_from_db(fields=["status", "claimed_at", "attempt_count", "attempts_in_cycle"])
    body = delivery_body(endpoint=delivery.endpoint, event=delivery.event)
    result = webhook_post(url=delivery.endpoint.url, body=body, headers=_headers(delivery, body))
    _attempt_record(delivery=delivery, claimed_at=claimed_at, result=result, task_id=task_id)
    delivery.refresh_from_db()
    return delivery


def _headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    endpoint = delivery.endpoint
    now = timezone.now()
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return signed_headers(
        secrets=secrets,
        message_id=delivery.event.public_id,
        timestamp=int(now.timestamp()),
        body=body,
    )


def _error_text(result: TransportResult) -> str:
    return result.error or (f"HTTP {result.status_code}" if outcome_of(result) != Outcome.SUCCEEDED else "")


@transaction.atomic
def _attempt_record(*, delivery: WebhookDelivery, claimed_at: datetime, result: TransportResult, task_id: str) -> None:
    now = timezone.now()
    outcome = outcome_of(result)
    schedule = conf.retry_schedule()
    fields: dict[str, object] = {
        "claimed_at": None,
        "last_attempt_at": claimed_at,
        "last_status_code": result.status_code,
        "last_response_body": result.response_body,
        "last_error": _error_text(result),
        "duration_ms": result.duration_ms,
        "updated_at": now,
    }
    delay: int | None = None
    if outcome == Outcome.SUCCEEDED:
        fields.update(status=Status.SUCCEEDED, succeeded_at=now, next_attempt_at=None)
    elif outcome == Outcome.RETRY and delivery.attempts_in_cycle < len(schedule):
        delay = schedule[delivery.attempts_in_cycle]
        fields.update(status=Status.PENDING, next_attempt_at=now + timedelta(seconds=delay))
    else:
        fields.update(status=Status.FAILED, next_attempt_at=None)
    # Only the claim we made may be finished: if the sweeper has taken the delivery back meanwhile, its result
    # (an interrupted attempt) stands and this late one is dropped.
    if not WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claimed_at=claimed_at).update(
        **fields
    ):
        logger.warning("Webhook delivery %s was reclaimed before its result came back; dropped.", delivery.pk)
        return
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempt_count,
        attempted_at=claimed_at,
        status_code=result.status_code,
        error=_error_text(result),
        duration_ms=result.duration_ms,
        response_body=result.response_body,
        task_id=task_id,
    )
    _endpoint_health_record(endpoint=delivery.endpoint, outcome=outcome, now=now)
    if delay is not None and delay <= conf.max_countdown():
        _enqueue_send(delivery.pk, countdown=delay)


def _endpoint_health_record(*, endpoint: WebhookEndpoint, outcome: Outcome, now: datetime) -> None:
    if outcome == Outcome.SUCCEEDED:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    if outcome == Outcome.GONE:
        webhook_endpoint_disable(endpoint=endpoint, reason=_("The receiver answered 410 Gone."))
        return
    failing_since = WebhookEndpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk)
    if failing_since is not None and now - failing_since >= conf.disable_after():
        reason = _("Every delivery failed for %(days)s days (since %(since)s).") % {
            "days": conf.disable_after().days,
            "since": failing_since.isoformat(timespec="seconds"),
        }
        webhook_endpoint_disable(endpoint=endpoint, reason=reason)


@transaction.atomic
def webhook_delivery_reclaim(*, delivery_pk: int, now: datetime) -> bool:
    """Take back a delivery whose worker died after claiming it: the attempt is recorded as interrupted (the
    receiver may or may not have got it) and the next one is due at once. Returns whether it was reclaimed."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_pk, status=Status.SENDING).first()
    if delivery is None or delivery.claimed_at is None or delivery.claimed_at >= now - conf.stuck_after():
        return False
    error = _("Interrupted: no result recorded within %(seconds)s s of the claim (the worker stopped).") % {
        "seconds": int(conf.stuck_after().total_seconds())
    }
    # Interruptions count towards the schedule, so a delivery that kills its worker every time still ends.
    exhausted = delivery.attempts_in_cycle >= len(conf.retry_schedule())
    reclaimed = WebhookDelivery.objects.filter(pk=delivery_pk, status=Status.SENDING, claimed_at=delivery.claimed_at)
    if not reclaimed.update(
        status=Status.FAILED if exhausted else Status.PENDING,
        next_attempt_at=None if exhausted else now,
        claimed_at=None,
        last_attempt_at=delivery.claimed_at,
        last_status_code=None,
        last_response_body="",
        last_error=error,
        duration_ms=None,
        updated_at=now,
    ):
        return False
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempt_count, attempted_at=delivery.claimed_at, error=error
    )
    if not exhausted:
        _enqueue_send(delivery_pk)
    return True


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again now: the same snapshot with the same webhook-id, and a fresh retry schedule.

    Raises ApplicationError when its endpoint is disabled or it is being sent at this moment.
    """
    if not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).exists():
        raise ApplicationError(
            _("Delivery %(pk)s: its endpoint is disabled; re-enable it first.") % {"pk": delivery.pk},
            code=WebhookErrorCode.ENDPOINT_DISABLED,
        )
    now = timezone.now()
    if (
        not WebhookDelivery.objects.exclude(status=Status.SENDING)
        .filter(pk=delivery.pk)
        .update(status=Status.PENDING, next_attempt_at=now, attempts_in_cycle=0, succeeded_at=None, updated_at=now)
    ):
        raise ApplicationError(
            _("Delivery %(pk)s is being sent right now; try again in a minute.") % {"pk": delivery.pk},
            code=WebhookErrorCode.DELIVERY_IN_PROGRESS,
        )
    _enqueue_send(delivery.pk)
    delivery.refresh_from_db()
    return delivery


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int
    events_queued: int
    deliveries_queued: int
    # Events emitted without a task because no endpoint received them, marked fanned out here.
    events_without_receivers: int = 0


def webhook_events_without_receivers_mark(*, now: datetime) -> int:
    """Mark fanned out, in one statement, the events past their grace period that no active endpoint receives (read
    now, not from the cache): webhook_event_emit queues no task for them. Returns how many."""
    unreceived = WebhookEvent.objects.filter(fanned_out_at__isnull=True, created_at__lte=now - conf.sweep_grace())
    for endpoint in webhook_endpoints_receiving():
        received = Q(created_at__gte=endpoint.receiving_from)
        if endpoint.event_types and ALL_EVENTS not in endpoint.event_types:
            received &= Q(type__in=endpoint.event_types)
        unreceived = unreceived.exclude(received)
    return unreceived.update(fanned_out_at=now)


@transaction.atomic
def webhook_deliveries_sweep() -> SweepResult:
    """Queue again whatever lost its task message: events never fanned out, deliveries due for longer than the
    grace period, and deliveries stuck in "sending" (those are reclaimed first); events no endpoint receives are
    marked fanned out without a task. Runs from beat every minute."""
    now = timezone.now()
    reclaimed = sum(webhook_delivery_reclaim(delivery_pk=pk, now=now) for pk in webhook_deliveries_stuck(now=now))
    without_receivers = webhook_events_without_receivers_mark(now=now)
    events = webhook_events_not_fanned_out(now=now)
    for event_pk in events:
        enqueue_after_commit(webhook_event_fan_out_task, event_pk)
    deliveries = webhook_deliveries_due(now=now)
    for delivery_pk in deliveries:
        _enqueue_send(delivery_pk)
    if reclaimed or events or deliveries:
        logger.info(
            "Webhook sweep: %s reclaimed, %s events and %s deliveries queued.", reclaimed, len(events), len(deliveries)
        )
    return SweepResult(
        reclaimed=reclaimed,
        events_queued=len(events),
        deliveries_queued=len(deliveries),
        events_without_receivers=without_receivers,
    )
