"""What the back office's clienteling home shows a store manager (loyalty/admin/home.py): the stores to choose
from, the customers who shopped at the chosen store lately, and the store's numbers of one day.

Each read is one query, so the home page's query count does not grow with the store's history.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce

from crm.models import Customer, Store
from loyalty.models import Purchase
from loyalty.selectors.accounts import COUNTED_PURCHASES

# Purchases read to find the latest distinct customers: a regular buys several times a day at most.
RECENT_PURCHASES_SCANNED_PER_CUSTOMER = 4


@dataclass(frozen=True)
class StoreDayNumbers:
    sign_ups: int
    purchases: int
    sales: Decimal
    points_issued: int


@dataclass(frozen=True)
class RecentCustomer:
    customer: Customer
    last_purchase: Purchase


def home_stores() -> list[Store]:
    return list(Store.objects.order_by("code"))


def store_day_numbers(*, store: Store | None, start: datetime, end: datetime) -> StoreDayNumbers:
    """Between `start` (included) and `end` (excluded), at `store` (None: every store and the online channels):
    customers who signed up there, purchases that were not rejected, what they came to net of refunds, and the
    points they earned (pending ones included: issued, even if not spendable yet)."""
    store_filter = Q(created_store=store) if store is not None else Q()
    sign_ups = Customer.objects.filter(store_filter, created_at__gte=start, created_at__lt=end).count()
    purchase_store_filter = Q(store=store) if store is not None else Q()
    totals = Purchase.objects.filter(
        COUNTED_PURCHASES, purchase_store_filter, purchased_at__gte=start, purchased_at__lt=end
    ).aggregate(
        count=Count("id"),
        sales=Coalesce(Sum("total"), Value(Decimal("0")), output_field=DecimalField())
        - Coalesce(Sum("refunded_total"), Value(Decimal("0")), output_field=DecimalField()),
        points=Coalesce(Sum("points_earned"), Value(0), output_field=IntegerField()),
    )
    return StoreDayNumbers(
        sign_ups=sign_ups,
        purchases=totals["count"],
        sales=Decimal(totals["sales"]).quantize(Decimal("0.01")),
        points_issued=totals["points"],
    )


def store_recent_customers(*, store: Store | None, limit: int) -> list[RecentCustomer]:
    """The last `limit` distinct customers who bought at `store` (None: anywhere), latest first, each with their
    latest purchase there. Erased customers are left out: there is nobody left to recognise."""
    purchases = (
        Purchase.objects.filter(Q(store=store) if store is not None else Q())
        .exclude(account__customer__status=Customer.Status.ERASED)
        .select_related("account__customer", "account__tier", "store")
        .order_by("-purchased_at", "-id")[: limit * RECENT_PURCHASES_SCANNED_PER_CUSTOMER]
    )
    recent: dict[int, RecentCustomer] = {}
    for purchase in purchases:
        customer = purchase.account.customer
        if customer.pk not in recent:
            recent[customer.pk] = RecentCustomer(customer=customer, last_purchase=purchase)
        if len(recent) == limit:
            break
    return list(recent.values())
