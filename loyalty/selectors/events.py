"""Reads of the events API (POST /api/v1/events and /events/bulk): the purchases a checkout replay is answered
from, the purchase an event names, and the ledger entries an event reports. Nothing here writes."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase


@dataclass(frozen=True)
class RecordedCheckout:
    """What answering a replay needs of a recorded purchase."""

    first_response: dict[str, Any] | None
    fingerprint: str
    customer_erased: bool


def checkouts_recorded_get(
    *, transaction_ids: Collection[str], program: Program | None = None
) -> dict[str, RecordedCheckout]:
    """The purchases recorded under these transaction ids in `program` (None: the default program, joined in the
    same query), by transaction id. One query."""
    purchases = Purchase.objects.filter(transaction_id__in=transaction_ids)
    if program is None:
        purchases = purchases.filter(program__is_default=True, program__is_active=True)
    else:
        purchases = purchases.filter(program=program)
    rows = purchases.values_list("transaction_id", "first_response", "request_fingerprint", "account__customer__status")
    return {
        transaction_id: RecordedCheckout(first_response, fingerprint, status == Customer.Status.ERASED)
        for transaction_id, first_response, fingerprint, status in rows
    }


def purchase_get_for_account(*, account: LoyaltyAccount, transaction_id: str) -> Purchase:
    """The purchase with this transaction id in the account's program. Raises TRANSACTION_NOT_FOUND (404) when
    there is none, and when it is another customer's: ids of others cannot be probed."""
    purchase = Purchase.objects.filter(program=account.program, transaction_id=transaction_id).first()
    if purchase is None or purchase.account_id != account.pk:
        raise ApplicationError(
            _("Transaction %(transaction_id)s not found.") % {"transaction_id": transaction_id},
            code=LoyaltyErrorCode.TRANSACTION_NOT_FOUND,
            status=404,
            extra={"field": "transaction_id"},
        )
    return purchase


def points_entries_spendable_changes(*, entries: QuerySet[PointsEntry]) -> list[PointsEntry]:
    """Those of `entries` that changed spendable points, oldest first, with their lots. Settlements of owed points
    are left out: they move points from a lot to the debt and leave the balance as it was."""
    return list(
        entries.filter(bucket=PointsEntry.Bucket.SPENDABLE)
        .exclude(kind=PointsEntry.Kind.SETTLE)
        .select_related("lot")
        .order_by("id")
    )
