"""Customer sign-up and profile edits as the POS sees them: the crm record plus loyalty enrolment, in one
transaction. (crm cannot import loyalty, so the combination lives here.)"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from crm.lock_objects import customer_qs_select_for_update
from crm.models import Customer
from crm.selectors import customer_get
from crm.services.context import ChangeContext
from crm.services.customers import customer_create, customer_update
from crm.services.stores import change_context_at_store
from loyalty.models import LoyaltyAccount
from loyalty.services.enrolment import loyalty_account_enrol


@transaction.atomic
def customer_sign_up(
    *,
    fields: dict[str, Any],
    context: ChangeContext,
    consents: dict[str, bool | None] | None = None,
    profile_address: dict[str, Any] | None = None,
    addresses: Iterable[dict[str, Any]] = (),
    store_code: str | None = None,
    associate_code: str | None = None,
) -> Customer:
    """customer_create, then enrolment in the default program when `loyalty_sign_up` consent is given: the
    sign-up address becomes profile address, loyalty address and the first addressList entry.

    The sign-up is attributed to the store `store_code` and its associate `associate_code`, recorded on first
    sight in this transaction (a refused sign-up records neither); the caller checks that it may act for the
    store. Raises what customer_create raises."""
    context = change_context_at_store(context=context, store_code=store_code, associate_code=associate_code)
    customer = customer_create(
        fields=fields, context=context, consents=consents, profile_address=profile_address, addresses=addresses
    )
    if (consents or {}).get("loyalty_sign_up"):
        loyalty_account_enrol(customer=customer, context=context)
    return customer


@transaction.atomic
def customer_profile_update(
    *,
    public_id: str,
    fields: dict[str, Any],
    context: ChangeContext,
    consents: dict[str, bool | None] | None = None,
    profile_address: dict[str, Any] | None = None,
    addresses: Iterable[dict[str, Any]] = (),
    store_code: str | None = None,
    associate_code: str | None = None,
) -> Customer:
    """customer_update of the customer with this public id, then: a newly given loyalty consent enrols; a new
    profile address also becomes the loyalty address of the customer's accounts.

    Records the store and associate the change is attributed to, as customer_sign_up does, then locks the customer
    row (the lock order of docs/architecture.md), so that two concurrent merges do not undo each other's fields.
    Raises CUSTOMER_NOT_FOUND (404) for an unknown or erased customer, and what customer_update raises."""
    context = change_context_at_store(context=context, store_code=store_code, associate_code=associate_code)
    customer = customer_get(public_id=public_id, queryset=customer_qs_select_for_update())
    customer = customer_update(
        customer=customer,
        fields=fields,
        context=context,
        consents=consents,
        profile_address=profile_address,
        addresses=addresses,
    )
    if (consents or {}).get("loyalty_sign_up"):
        loyalty_account_enrol(customer=customer, context=context)
    if profile_address and customer.profile_address_id:
        LoyaltyAccount.objects.filter(customer=customer).exclude(address_id=customer.profile_address_id).update(
            address_id=customer.profile_address_id
        )
    return customer
