"""Starting a shopper session (POST /api/v1/sessions, LoyaltyLion's "initialize session"): find the shop's customer by
its own id (`merchant_id`, kept as the customer's alternate customer id), create them when missing, and enrol them
when the program auto-enrols shoppers on the session's channel.

Decisions, documented in docs/web-sessions.md:
- the customer fields are used only to create a customer (as LoyaltyLion does): a session never edits a profile;
- a customer who has the email but no merchant_id yet (signed up at a till) is linked: the merchant_id becomes
  their alternate customer id. An email whose customer carries another merchant_id is EMAIL_ALREADY_IN_USE (422);
- auto-enrolment enrols a customer without an account in the program, new or not, unless they are blocked. An
  opted-out shopper keeps their guest account and stays a guest. No loyalty consent is recorded for them: the
  program's rule enrolled them, the shopper did not tick a box.

Retries and races: a session for a known, settled shopper only reads. Anything that writes runs in one transaction
under a lock on the merchant_id, and looks the shopper up again inside it, so that two first sessions for one
merchant_id (a double page load) create one customer. Customer.alternate_customer_id has an index but no unique
constraint (tills may share an external id), so the lock, not the schema, is what serialises them.
"""

import hashlib
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.models import Customer
from crm.services.context import ChangeContext
from crm.services.customers import customer_create, customer_update
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount, Program
from loyalty.selectors.sessions import customer_by_email, customer_by_merchant_id, session_account_get
from loyalty.services.enrolment import loyalty_account_enrol


@dataclass(frozen=True)
class ShopperProfile:
    """What the shop says about the shopper; used only when the customer is created."""

    email: str | None
    first_name: str = ""
    last_name: str = ""
    language: str = ""


@dataclass(frozen=True)
class SessionShopper:
    customer: Customer
    account: LoyaltyAccount | None
    created: bool = False
    linked: bool = False
    enrolled: bool = False


def session_enrols(*, program: Program, channel: str, customer: Customer, account: LoyaltyAccount | None) -> bool:
    """The auto-enrolment rule: the program enrols on this channel, the customer has no account in it yet (an
    opted-out or blocked account stays as it is) and the customer is not blocked."""
    return (
        channel in (program.auto_enrol_channels or []) and account is None and customer.status == Customer.Status.ACTIVE
    )


def _email_in_use() -> ApplicationError:
    return ApplicationError(
        _("This email address is already used by another customer."),
        code=LoyaltyErrorCode.EMAIL_ALREADY_IN_USE,
        status=422,
        extra={"field": "customer.email"},
    )


def _merchant_id_lock(merchant_id: str) -> None:
    """Serialise the writing part of sessions for one merchant_id until the transaction ends. PostgreSQL: a
    transaction-level advisory lock on a 64-bit hash of the id (a collision only makes two shoppers wait for each
    other). SQLite takes its write lock when the transaction begins (transaction_mode IMMEDIATE), which already
    serialises every writer."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"shopper-session:{merchant_id}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def shopper_session_start(
    *, program: Program, merchant_id: str, channel: str, profile: ShopperProfile, context: ChangeContext
) -> SessionShopper:
    """The shopper with this merchant_id, created, linked by email and/or enrolled as the module docstring says.
    Reads only when the shopper exists and nothing is to be enrolled. Raises EMAIL_ALREADY_IN_USE (422),
    AMBIGUOUS_IDENTIFIER (409, several customers carry the merchant_id) and what customer_create raises
    (IDENTITY_REQUIRED, INVALID_FIELD); nothing is written when it raises."""
    customer = customer_by_merchant_id(merchant_id=merchant_id)
    if customer is not None:
        account = session_account_get(customer=customer, program=program)
        if not session_enrols(program=program, channel=channel, customer=customer, account=account):
            return SessionShopper(customer=customer, account=account)
    return _shopper_get_or_create_locked(
        program=program, merchant_id=merchant_id, channel=channel, profile=profile, context=context
    )


@transaction.atomic
def _shopper_get_or_create_locked(
    *, program: Program, merchant_id: str, channel: str, profile: ShopperProfile, context: ChangeContext
) -> SessionShopper:
    _merchant_id_lock(merchant_id)
    created = linked = False
    customer = customer_by_merchant_id(merchant_id=merchant_id)
    if customer is None:
        customer = _customer_linked_by_email(merchant_id=merchant_id, profile=profile, context=context)
        linked = customer is not None
    if customer is None:
        customer = _customer_create(merchant_id=merchant_id, profile=profile, context=context)
        created = True
    account = None if created else session_account_get(customer=customer, program=program)
    enrolled = session_enrols(program=program, channel=channel, customer=customer, account=account)
    if enrolled:
        account = loyalty_account_enrol(customer=customer, context=context, program=program)
    return SessionShopper(customer=customer, account=account, created=created, linked=linked, enrolled=enrolled)


def _customer_linked_by_email(*, merchant_id: str, profile: ShopperProfile, context: ChangeContext) -> Customer | None:
    """The customer who has the email and no merchant_id yet, now carrying this one; None when nobody has the
    email. Raises EMAIL_ALREADY_IN_USE when its customer already belongs to another merchant_id."""
    owner = customer_by_email(email=profile.email or "")
    if owner is None:
        return None
    if owner.alternate_customer_id:
        raise _email_in_use()
    return customer_update(customer=owner, fields={"alternate_customer_id": merchant_id}, context=context)


def _customer_create(*, merchant_id: str, profile: ShopperProfile, context: ChangeContext) -> Customer:
    fields = {
        "email": profile.email or "",
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "alternate_customer_id": merchant_id,
        "preferred_language": profile.language,
    }
    try:
        return customer_create(fields=fields, context=context)
    except ApplicationError as error:
        # Another shop customer took the email between our look-up and the insert: the unique index decided.
        if error.code == CrmErrorCode.EMAIL_ALREADY_IN_USE:
            raise _email_in_use() from error
        raise
