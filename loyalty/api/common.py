"""Shared pieces of the loyalty API (/api/v1/): scopes, finding the customer an event names, the customer summary
that event responses carry. snake_case, errors in the core shape {"message", "code", "extra"}."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.views import APIView

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.models import ApiClient, Customer, Store
from crm.permissions import HasRequiredScope
from crm.selectors import api_client_store_check
from crm.services.stores import store_get_or_create
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount
from loyalty.selectors.accounts import program_get_default
from loyalty.services.ledger import account_balances

ERASED_MESSAGE = "Customer is deleted after PII delete request"


class LoyaltyReadApi(APIView):
    required_scope = "loyalty:read"
    permission_classes = (HasRequiredScope,)


class LoyaltyWriteApi(APIView):
    required_scope = "loyalty:write"
    permission_classes = (HasRequiredScope,)


def customer_for_api(public_id: str) -> Customer:
    """The customer with this public id. Raises CUSTOMER_NOT_FOUND (404), or CUSTOMER_ERASED (410) with the
    message integrators know from Capillary once the customer's PII has been erased."""
    customer = Customer.objects.filter(public_id=str(public_id).strip()).first()
    if customer is None:
        raise ApplicationError(
            _("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404, extra={"field": "customer"}
        )
    if customer.status == Customer.Status.ERASED:
        raise ApplicationError(ERASED_MESSAGE, code=LoyaltyErrorCode.CUSTOMER_ERASED, status=410)
    return customer


def account_for_api(customer: Customer) -> LoyaltyAccount:
    """The customer's account in the default program. Raises NOT_ENROLLED (409) when there is none."""
    account = (
        LoyaltyAccount.objects.select_related("program", "tier")
        .filter(customer=customer, program=program_get_default())
        .first()
    )
    if account is None:
        raise ApplicationError(
            _("The customer is not enrolled in the loyalty program."), code=LoyaltyErrorCode.NOT_ENROLLED, status=409
        )
    return account


def customer_summary(customer: Customer, account: LoyaltyAccount | None) -> dict[str, Any]:
    """The customer part of an event response (modelled on Antavo's Event_response)."""
    summary: dict[str, Any] = {
        "id": customer.public_id,
        "status": customer.status,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "language": customer.preferred_language,
        "state": account.state if account else LoyaltyAccount.State.GUEST,
    }
    if account is None:
        return summary
    balances = account_balances(account)
    summary.update(
        {
            "account_number": account.account_number,
            "currency": account.program.currency,
            "tier": account.tier.code if account.tier else None,
            "spendable": balances.spendable,
            "pending": balances.pending,
            "reserved": balances.reserved,
            "spent": balances.spent,
            "expired": balances.expired,
            "score": balances.earned,
            "owed": balances.owed,
        }
    )
    return summary


def store_for_api(*, client: ApiClient, store_code: str | None, field: str) -> Store | None:
    """The store a request names (recorded on first sight, as checkouts do), or None. Raises STORE_NOT_ALLOWED (403,
    naming `field`) for a key restricted to other stores."""
    if not store_code:
        return None
    api_client_store_check(client=client, store_code=store_code, field=field)
    return store_get_or_create(code=store_code)
