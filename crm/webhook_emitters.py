"""Webhook events of the customer record, written to the outbox inside the service's transaction."""

from typing import Any

from crm.models import CONSENT_NAMES, Customer
from webhooks.services.events import webhook_event_emit


def customer_webhook_payload(customer: Customer) -> dict[str, Any]:
    consents = getattr(customer, "consents", None)
    return {
        "id": customer.public_id,
        "status": customer.status,
        "salutation": customer.salutation,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone_mobile": customer.phone_mobile,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "preferred_language": customer.preferred_language,
        "country": customer.country,
        "postal_code": customer.postal_code,
        "customer_group": customer.customer_group,
        "created_store": customer.created_store.code if customer.created_store else None,
        "consents": {
            name: getattr(consents, name)
            for name in CONSENT_NAMES
            if consents is not None and getattr(consents, name) is not None
        },
    }


def customer_created_event(customer: Customer) -> None:
    webhook_event_emit(
        type="customer.created",
        payload={"customer": customer_webhook_payload(customer)},
        entity_id=customer.public_id,
        updated_at=customer.updated_at,
    )


def customer_updated_event(customer: Customer, *, changed_fields: list[str]) -> None:
    webhook_event_emit(
        type="customer.updated",
        payload={"customer": customer_webhook_payload(customer), "changed_fields": sorted(changed_fields)},
        entity_id=customer.public_id,
        updated_at=customer.updated_at,
    )


def customer_erased_event(customer: Customer) -> None:
    """Ids only: the point of an erasure is that no personal data travels any more."""
    webhook_event_emit(
        type="customer.erased",
        payload={"customer": {"id": customer.public_id, "status": customer.status}, "erased_at": customer.updated_at},
        entity_id=customer.public_id,
        updated_at=customer.updated_at,
    )
