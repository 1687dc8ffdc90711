from typing import Any

from django.db import transaction

from core.models import IdempotencyRecord
from crm.models import Customer
from crm.services.context import ChangeContext
from crm.services.privacy import customer_erase
from loyalty.models import Purchase

PERSONAL_SUMMARY_FIELDS = ("first_name", "last_name", "email")


def _without_personal_data(response: Any) -> Any:
    """A stored event response with the customer summary's names and email blanked, at any depth."""
    if isinstance(response, dict):
        return {
            key: "" if key in PERSONAL_SUMMARY_FIELDS else _without_personal_data(value)
            for key, value in response.items()
        }
    if isinstance(response, list):
        return [_without_personal_data(item) for item in response]
    return response


@transaction.atomic
def customer_erase_with_loyalty_data(*, customer: Customer, context: ChangeContext) -> Customer:
    """crm's customer_erase, plus the copies of personal data the loyalty API kept: the first response stored
    with each checkout (replayed for a retried transaction id) and the responses stored under Idempotency-Keys.
    The ledger and purchases stay: they are pseudonymous once the customer row is erased."""
    customer = customer_erase(customer=customer, context=context)
    for purchase in Purchase.objects.filter(account__customer=customer).exclude(first_response={}):
        purchase.first_response = _without_personal_data(purchase.first_response)
        purchase.save(update_fields=["first_response", "updated_at"])
    # Single-event responses carry the customer id at the top; bulk responses expire with their key (24 h).
    IdempotencyRecord.objects.filter(response_body__id=customer.public_id).delete()
    return customer
