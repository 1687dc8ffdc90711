"""Reads of the points ledger for the loyalty API. Nothing here writes."""

from django.db.models import QuerySet

from crm.models import Customer
from loyalty.models import PointsEntry


def points_entry_list(*, customer: Customer) -> QuerySet[PointsEntry]:
    """The ledger entries of the customer's account in the default program, newest first by (created_at, id); none
    for a customer who never enrolled. Each entry comes with its purchase and the lot it draws on or gives back to
    (one query, whatever the page size); callers filter and page the queryset."""
    return (
        PointsEntry.objects.filter(
            account__customer=customer, account__program__is_default=True, account__program__is_active=True
        )
        .select_related("purchase", "lot")
        .order_by("-created_at", "-id")
    )
