"""Customer sign-up and profile edits as the POS sees them: the crm record plus loyalty enrolment, in one
transaction. (crm cannot import loyalty, so the combination lives here.)"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from crm.models import Customer
from crm.services.context import ChangeContext
from crm.services.customers import customer_create, customer_update
from loyalty.models import LoyaltyAccount
from loyalty.services.enrolment import loyalty_account_enroll


@transaction.atomic
def customer_sign_up(
    *,
    fields: dict[str, Any],
    context: ChangeContext,
    consents: dict[str, bool | None] | None = None,
    profile_address: dict[str, Any] | None = None,
    addresses: Iterable[dict[str, Any]] = (),
) -> Customer:
    """customer_create, then enrolment in the default program when `loyalty_sign_up` consent is given: the
    sign-up address becomes profile address, loyalty address and the first addressList entry."""
    customer = customer_create(
        fields=fields, context=context, consents=consents, profile_address=profile_address, addresses=addresses
    )
    if (consents or {}).get("loyalty_sign_up"):
        loyalty_account_enroll(customer=customer, context=context)
    return customer


@transaction.atomic
def customer_profile_update(
    *,
    customer: Customer,
    fields: dict[str, Any],
    context: ChangeContext,
    consents: dict[str, bool | None] | None = None,
    profile_address: dict[str, Any] | None = None,
    addresses: Iterable[dict[str, Any]] = (),
) -> Customer:
    """customer_update, then: a newly given loyalty consent enrols; a new profile address also becomes the
    loyalty address of the customer's accounts."""
    customer = customer_update(
        customer=customer,
        fields=fields,
        context=context,
        consents=consents,
        profile_address=profile_address,
        addresses=addresses,
    )
    if (consents or {}).get("loyalty_sign_up"):
        loyalty_account_enroll(customer=customer, context=context)
    if profile_address and customer.profile_address_id:
        LoyaltyAccount.objects.filter(customer=customer).exclude(address_id=customer.profile_address_id).update(
            address_id=customer.profile_address_id
        )
    return customer
