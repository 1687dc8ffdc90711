"""Row locks of the crm domain, each a queryset to be read inside the caller's transaction. A store a change names
is recorded before the customer is locked, and the customer is locked before any loyalty row (docs/architecture.md,
"Lock order")."""

from django.db.models import QuerySet

from crm.models import Customer


def customer_qs_select_for_update() -> QuerySet[Customer]:
    """Customers locked for the rest of the transaction: a profile merge saves the whole row, and two concurrent
    merges of one customer must not undo each other's fields."""
    return Customer.objects.select_for_update()
