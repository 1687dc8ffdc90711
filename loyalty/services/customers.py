"""Customer sign-up and profile edits as the POS sees them: the crm record plus loyalty enrolment, in one
transaction. (crm cannot import loyalty, so the combination lives here.)"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.lock_objects import customer_qs_select_for_update
from crm.models import Customer
from crm.selectors import customer_get
from crm.services.context import ChangeContext
from crm.services.customers import customer_create, customer_update
from crm.services.stores import change_context_at_store
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount
from loyalty.selectors.accounts import program_get_default
from loyalty.services.enrolment import loyalty_account_enrol, loyalty_card_from_pos_give
from loyalty.services.membership import loyalty_account_opt_in, loyalty_account_opt_out


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
    loyalty_id: str | None = None,
) -> Customer:
    """customer_create, then enrolment in the default program when `loyalty_sign_up` consent is given: the
    sign-up address becomes profile address, loyalty address and the first addressList entry. A `loyalty_id` (a
    card handed out at the till) becomes the account's number and card (loyalty_account_enrol); it needs the
    consent (LOYALTY_SIGN_UP_REQUIRED, 400).

    The sign-up is attributed to the store `store_code` and its associate `associate_code`, recorded on first
    sight in this transaction (a refused sign-up records neither); the caller checks that it may act for the
    store. Raises what customer_create raises."""
    context = change_context_at_store(context=context, store_code=store_code, associate_code=associate_code)
    customer = customer_create(
        fields=fields, context=context, consents=consents, profile_address=profile_address, addresses=addresses
    )
    if (consents or {}).get("loyalty_sign_up"):
        loyalty_account_enrol(customer=customer, context=context, card_number=loyalty_id)
    elif loyalty_id:
        raise _sign_up_required_error()
    return customer


def _sign_up_required_error() -> ApplicationError:
    return ApplicationError(
        _("A loyalty card is for members: send consents.loyaltySignUp: true with it."),
        code=LoyaltyErrorCode.LOYALTY_SIGN_UP_REQUIRED,
        extra={"field": "loyalty_id"},
    )


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
    loyalty_id: str | None = None,
    profile_address_clear: bool = False,
) -> Customer:
    """customer_update of the customer with this public id, then: the loyalty consent given enrols a customer
    without an account and re-enrols a guest (loyalty_account_opt_in: same account, card and points), and withdrawn
    it makes a member a guest (loyalty_account_opt_out); a blocked account stays as it is, the consent is recorded.
    A `loyalty_id` that is not yet the account's becomes a card of it (loyalty_card_from_pos_give); without an
    account, one it needs the consent (LOYALTY_SIGN_UP_REQUIRED, 400). A new profile address also becomes the
    loyalty address of the customer's accounts, and `profile_address_clear` (the SPI's `profile.address: null`)
    clears both.

    Records the store and associate the change is attributed to, as customer_sign_up does, then locks the customer
    row (the lock order of docs/architecture.md), so that two concurrent merges do not undo each other's fields.
    Raises CUSTOMER_NOT_FOUND (404) for an unknown or erased customer, and what customer_update raises."""
    context = change_context_at_store(context=context, store_code=store_code, associate_code=associate_code)
    customer = customer_get(public_id=public_id, queryset=customer_qs_select_for_update())
    previous_address_id = customer.profile_address_id
    customer = customer_update(
        customer=customer,
        fields=fields,
        context=context,
        consents=consents,
        profile_address=profile_address,
        addresses=addresses,
        profile_address_clear=profile_address_clear,
    )
    if profile_address_clear and previous_address_id is not None and customer.profile_address_id is None:
        LoyaltyAccount.objects.filter(customer=customer, address_id=previous_address_id).update(address=None)
    loyalty_sign_up = (consents or {}).get("loyalty_sign_up")
    account = None
    if loyalty_sign_up is not None or loyalty_id:
        account = LoyaltyAccount.objects.filter(customer=customer, program=program_get_default()).first()
    if loyalty_sign_up is True and (account is None or account.state == LoyaltyAccount.State.GUEST):
        account = loyalty_account_opt_in(customer=customer, fields={}, context=context, card_number=loyalty_id)
    elif loyalty_sign_up is False and account is not None and account.state == LoyaltyAccount.State.ENROLLED:
        account = loyalty_account_opt_out(account=account, context=context)
    if loyalty_id:
        if account is None:
            raise _sign_up_required_error()
        loyalty_card_from_pos_give(account=account, card_number=loyalty_id)
    if profile_address and customer.profile_address_id:
        LoyaltyAccount.objects.filter(customer=customer).exclude(address_id=customer.profile_address_id).update(
            address_id=customer.profile_address_id
        )
    return customer
