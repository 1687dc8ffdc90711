"""The back office's home page (/admin/) and its customer search as you type (/admin/customer-search/).

Users who look after customers (store managers: they may change customers and view loyalty accounts) get a
clienteling home above the usual list of applications: one search box, the customers who shopped at their store
lately and the store's numbers of today. Everyone else gets the admin index as before. The store is chosen on the
page and remembered in the session (users are not tied to a store in the data).

The search box asks the JSON endpoint, which runs the customer list's own search (CustomerAdmin.get_search_results:
name, email and phone for users who may see them, card and account numbers, customer id), so the box and the
changelist always find the same customers and nobody finds more than their changelist would show them.
"""

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, Store
from loyalty.models import LoyaltyAccount
from loyalty.selectors.home import home_stores, store_day_numbers, store_recent_customers

HOME_STORE_SESSION_KEY = "back_office_home_store"
RECENT_CUSTOMERS_SHOWN = 8
SEARCH_RESULTS_SHOWN = 10
SEARCH_MIN_LENGTH = 2


def _customer_admin() -> ModelAdmin:
    return admin.site._registry[Customer]


def may_use_clienteling_home(request: HttpRequest) -> bool:
    user = request.user
    return user.has_perm("crm.change_customer") and user.has_perm("loyalty.view_loyaltyaccount")


def _chosen_store(request: HttpRequest, stores: list[Store]) -> Store | None:
    """?store=CODE chooses (and remembers) the store, ?store= goes back to every store."""
    by_code = {store.code: store for store in stores}
    if "store" in request.GET:
        code = request.GET["store"]
        if code in by_code:
            request.session[HOME_STORE_SESSION_KEY] = code
        else:
            request.session.pop(HOME_STORE_SESSION_KEY, None)
    return by_code.get(request.session.get(HOME_STORE_SESSION_KEY, ""))


def _today(now: datetime) -> tuple[datetime, datetime]:
    day = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def clienteling_home_context(request: HttpRequest) -> dict[str, Any]:
    stores = home_stores()
    store = _chosen_store(request, stores)
    start, end = _today(timezone.now())
    return {
        "clienteling": {
            "stores": stores,
            "store": store,
            "today": start.date(),
            "numbers": store_day_numbers(store=store, start=start, end=end),
            "recent_customers": store_recent_customers(store=store, limit=RECENT_CUSTOMERS_SHOWN),
            "search_url": reverse("admin-customer-search"),
            "customers_url": reverse("admin:crm_customer_changelist"),
        }
    }


def back_office_home(request: HttpRequest) -> HttpResponse:
    extra_context = clienteling_home_context(request) if may_use_clienteling_home(request) else None
    return admin.site.index(request, extra_context=extra_context)


def customer_search_json(request: HttpRequest) -> JsonResponse:
    """{"results": [{"id", "name", "status", "store", "tier", "points", "email", "phone", "url"}], "more": bool}.
    email and phone only for users who may see contact details; tier and points only for those who may view
    loyalty accounts. 403 for users who may not view customers, 400 for a term shorter than SEARCH_MIN_LENGTH."""
    customer_admin = _customer_admin()
    if not customer_admin.has_view_permission(request):
        return JsonResponse({"message": "You may not view customers.", "code": "PERMISSION_DENIED"}, status=403)
    term = request.GET.get("q", "").strip()
    if len(term) < SEARCH_MIN_LENGTH:
        message = f"Type at least {SEARCH_MIN_LENGTH} characters of a name, email, phone, card number or id."
        return JsonResponse(
            {"message": message, "code": "SEARCH_TOO_SHORT", "extra": {"fields": {"q": [message]}}}, status=400
        )
    queryset = customer_admin.get_queryset(request).select_related("created_store")
    found, _duplicates = customer_admin.get_search_results(request, queryset, term)
    customers = list(found[: SEARCH_RESULTS_SHOWN + 1])
    shown = customers[:SEARCH_RESULTS_SHOWN]
    may_see_contact_details = request.user.has_perm("crm.change_customer")
    accounts: dict[int, LoyaltyAccount] = {}
    if request.user.has_perm("loyalty.view_loyaltyaccount") and shown:
        default_accounts = LoyaltyAccount.objects.filter(customer__in=shown, program__is_default=True).select_related(
            "tier"
        )
        accounts = {account.customer_id: account for account in default_accounts}
    results = []
    for customer in shown:
        account = accounts.get(customer.pk)
        result: dict[str, Any] = {
            "id": customer.public_id,
            "name": " ".join(part for part in (customer.first_name, customer.last_name) if part) or customer.public_id,
            "status": customer.get_status_display(),
            "store": customer.created_store.code if customer.created_store else "",
            "tier": account.tier.name if account is not None and account.tier else "",
            "points": account.points_balance if account is not None else None,
            "url": reverse("admin:crm_customer_change", args=(customer.pk,)),
        }
        if may_see_contact_details:
            result["email"] = customer.email
            result["phone"] = customer.phone_mobile or customer.phone_home
        results.append(result)
    return JsonResponse({"results": results, "more": len(customers) > SEARCH_RESULTS_SHOWN})


back_office_home_view = admin.site.admin_view(back_office_home)
customer_search_json_view = admin.site.admin_view(customer_search_json)
