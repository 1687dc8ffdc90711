from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.enqueue import enqueue_after_commit
from core.exceptions import ApplicationError
from webhooks import conf
from webhooks.catalogue import ALL_EVENTS, CATALOGUE, PING, event_types_unknown
from webhooks.error_codes import WebhookErrorCode
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import receiving_cache
from webhooks.services.events import event_record
from webhooks.signing import secret_generate
from webhooks.tasks import webhook_delivery_send_task


def _receivers_changed() -> None:
    """Forget this process's copy of the endpoints now (later reads in this transaction see the change) and again
    at commit (a copy another thread read before the commit must not outlive it)."""
    receiving_cache.clear()
    transaction.on_commit(receiving_cache.clear)


def _validated_event_types(event_types: Iterable[str]) -> list[str]:
    cleaned = sorted({name.strip() for name in event_types if name.strip()})
    unknown = event_types_unknown(cleaned)
    if unknown:
        raise ApplicationError(
            _("Unknown event types: %(unknown)s. Known event types: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(CATALOGUE)},
            code=WebhookErrorCode.UNKNOWN_EVENT_TYPE,
            extra={"field": "event_types"},
        )
    return [ALL_EVENTS] if ALL_EVENTS in cleaned else cleaned


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    payload_format: str = WebhookEndpoint.PayloadFormat.STANDARD,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint and return it with its signing secret, which the caller shows once.

    Raises ApplicationError for an unknown event type and ValidationError for a bad URL.
    """
    secret = secret_generate()
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        event_types=_validated_event_types(event_types),
        secret=secret,
        payload_format=payload_format,
    )
    endpoint.full_clean()
    endpoint.save()
    _receivers_changed()
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    event_types: Iterable[str],
    description: str,
    payload_format: str | None = None,
) -> WebhookEndpoint:
    """Change what the endpoint receives; `payload_format` None keeps it. Deliveries not yet sent go out in the new
    format (the body is rendered when sent). Raises ValidationError for a bad URL or an unknown payload format."""
    endpoint.url = url
    endpoint.description = description
    endpoint.event_types = _validated_event_types(event_types)
    if payload_format is not None:
        endpoint.payload_format = payload_format
    endpoint.full_clean()
    endpoint.save(update_fields=["url", "description", "event_types", "payload_format", "updated_at"])
    _receivers_changed()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret and return it. The old one keeps signing too (a second signature in the
    header) for the overlap window, so the receiver can switch without dropping deliveries."""
    secret = secret_generate()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + conf.secret_overlap()
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return secret


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Stop delivering to the endpoint; its pending deliveries fail (they can be replayed after re-enabling).
    Returns False when it was already disabled."""
    now = timezone.now()
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:200], updated_at=now
    )
    if disabled:
        _receivers_changed()
        WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            last_error=f"Not sent: the endpoint was disabled ({reason})."[:1000],
            updated_at=now,
        )
    endpoint.refresh_from_db()
    return bool(disabled)


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Deliver again the events that occur from now on (not those of while it was disabled, even if they are
    fanned out later); failed deliveries stay failed until replayed. An active endpoint only forgets its failing
    streak: the events it was receiving all along still reach it."""
    now = timezone.now()
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=False).update(
        is_active=True, disabled_at=None, disabled_reason="", reenabled_at=now, updated_at=now
    ):
        _receivers_changed()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None, updated_at=now)
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a signed "webhook.ping" event to this endpoint only, through the normal delivery path."""
    if not endpoint.is_active:
        raise ApplicationError(
            _("%(url)s is disabled: re-enable it first.") % {"url": endpoint.url},
            code=WebhookErrorCode.ENDPOINT_DISABLED,
        )
    now = timezone.now()
    # Marked as fanned out from the start: a ping goes to the endpoint it was asked for and nowhere else.
    event = event_record(
        event_type=PING,
        entity_id="ping",
        data={"message": "Test ping from the retail CRM back office.", "url": endpoint.url},
        entity={"id": "ping", "updated_at": now},
        fanned_out_at=now,
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=event.created_at)
    enqueue_after_commit(webhook_delivery_send_task, delivery.pk)
    return delivery
