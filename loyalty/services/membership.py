"""Joining and leaving the loyalty program, as the events API's opt_in and opt_out do it, and the rule of who may
move points. An opted-out customer becomes a guest: the account, its ledger and its points stay."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from crm.services.customers import customer_update
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount
from loyalty.services.enrolment import loyalty_account_enrol
from loyalty.services.ledger import account_lock
from loyalty.webhook_emitters import account_enrolled_event, account_opted_out_event

State = LoyaltyAccount.State


def _blocked_error() -> ApplicationError:
    return ApplicationError(_("The loyalty account is blocked."), code=LoyaltyErrorCode.ACCOUNT_BLOCKED, status=409)


def loyalty_account_ensure_enrolled(account: LoyaltyAccount) -> None:
    """Points move only on enrolled accounts. Raises ACCOUNT_BLOCKED or NOT_ENROLLED (409). Call it on the locked
    account, so that a concurrent opt-out cannot slip in between the check and the write."""
    if account.state == State.BLOCKED:
        raise _blocked_error()
    if account.state != State.ENROLLED:
        raise ApplicationError(
            _("The customer is not enrolled in the loyalty program."), code=LoyaltyErrorCode.NOT_ENROLLED, status=409
        )


def _set_state(account: LoyaltyAccount, state: str, *, opted_out_at: datetime | None) -> None:
    account.state = state
    account.opted_out_at = opted_out_at
    # Only these two fields change: the foreign keys and unique columns need no (querying) validation.
    account.clean_fields(
        exclude=[field.name for field in account._meta.fields if field.name not in ("state", "opted_out_at")]
    )
    account.save(update_fields=["state", "opted_out_at", "updated_at"])


@transaction.atomic
def loyalty_account_opt_in(
    *, customer: Customer, fields: dict[str, Any], context: ChangeContext, card_number: str | None = None
) -> LoyaltyAccount:
    """Enrol an existing customer in the default program, merging `fields` into the profile first (as
    customer_update does) and recording the loyalty consent. Opting in again after an opt-out re-enrols the guest
    account with its points and cards (and says so with loyalty.enrolled); opting in an enrolled customer changes
    nothing. A new account is numbered after `card_number` when one is given (loyalty_account_enrol). Raises
    ACCOUNT_BLOCKED (409), and what customer_update and loyalty_account_enrol raise (EMAIL_ALREADY_IN_USE 409,
    ...). The events API's opt_in and the Clienteling SPI's loyaltySignUp: true both come here."""
    if fields:
        customer_update(customer=customer, fields=fields, context=context)
    consents_set(customer=customer, changes={"loyalty_sign_up": True}, context=context)
    account = account_lock(loyalty_account_enrol(customer=customer, context=context, card_number=card_number))
    if account.state == State.BLOCKED:
        raise _blocked_error()
    if account.state == State.GUEST:
        _set_state(account, State.ENROLLED, opted_out_at=None)
        account_enrolled_event(account)
    return account


@transaction.atomic
def loyalty_account_opt_out(*, account: LoyaltyAccount, context: ChangeContext) -> LoyaltyAccount:
    """The customer leaves the program: the account becomes a guest account with `opted_out_at`, its points stay
    (and come back into use on a new opt-in), and the loyalty consent is withdrawn. Opting out twice changes
    nothing. Raises ACCOUNT_BLOCKED (409): a blocked account stays blocked. The events API's opt_out and the
    Clienteling SPI's loyaltySignUp: false both come here; loyalty.opted_out tells the webhooks."""
    account = account_lock(account)
    if account.state == State.BLOCKED:
        raise _blocked_error()
    if account.state == State.ENROLLED:
        _set_state(account, State.GUEST, opted_out_at=timezone.now())
        consents_set(customer=account.customer, changes={"loyalty_sign_up": False}, context=context)
        account_opted_out_event(account)
    return account
