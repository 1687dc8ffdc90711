"""The loyalty part of the customer admin page, added through crm.admin's CustomerPageExtension (crm may not import
loyalty): search by loyalty account or card number, the customer at a glance on top (customer_glance.py), the
loyalty panel (customer_panel.py), and the erasure of a customer's personal data, which only loyalty can do
completely (the loyalty API keeps copies of its responses).
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from crm.admin import (
    CustomerAdmin,
    CustomerPageExtension,
    CustomerPagePanel,
    CustomerPageTool,
    customer_page_extension_register,
)
from crm.models import ConsentChange, Customer
from crm.services.context import ChangeContext
from loyalty.admin.customer_glance import customer_glance
from loyalty.admin.customer_panel import loyalty_customer_panel
from loyalty.selectors.accounts import customer_pks_by_loyalty_id
from loyalty.services.privacy import customer_erase_with_loyalty_data


class EraseCustomerForm(forms.Form):
    confirm_id = forms.CharField(label="Type the customer id to confirm", max_length=32)

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_id(self) -> str:
        value = self.cleaned_data["confirm_id"].strip().upper()
        if value != self.customer.public_id:
            raise forms.ValidationError(f"Type {self.customer.public_id} exactly to confirm the erasure.")
        return value


def _may_erase(request: HttpRequest) -> bool:
    return request.user.has_perm("crm.erase_customer")


def customer_erase_view(customer_admin: CustomerAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """An erasure request, handled in the back office: a confirmation page, then the same service as the loyalty
    API's erase endpoint (personal data removed, the pseudonymous ledger kept)."""
    if not _may_erase(request):
        raise PermissionDenied
    customer = customer_admin.get_object(request, object_id)
    if customer is None:
        raise Http404
    change_url = reverse("admin:crm_customer_change", args=(customer.pk,))
    if customer.status == Customer.Status.ERASED:
        customer_admin.message_user(request, f"Customer {customer.public_id} is already erased.", messages.INFO)
        return HttpResponseRedirect(change_url)
    form = EraseCustomerForm(request.POST if request.method == "POST" else None, customer=customer)
    if form.is_valid():
        change_context = ChangeContext(channel=ConsentChange.Channel.ADMIN, user=request.user)
        customer_erase_with_loyalty_data(customer=customer, context=change_context)
        customer_admin.message_user(request, f"The personal data of customer {customer.public_id} was erased.")
        return HttpResponseRedirect(change_url)
    context = {
        **customer_admin.admin_site.each_context(request),
        "opts": customer_admin.opts,
        "title": "Erase personal data",
        "customer": customer,
        "form": form,
    }
    return TemplateResponse(request, "admin/loyalty/customer/erase.html", context)


class LoyaltyCustomerPage(CustomerPageExtension):
    search_help = "loyalty account number"

    def search_condition(self, term: str) -> Q:
        # Account and card numbers resolved to primary keys first: inside an OR, an `IN (subquery)` cannot use an
        # index on PostgreSQL and would be checked against every customer row.
        customer_pks = list(customer_pks_by_loyalty_id(loyalty_id=term).values_list("customer_id", flat=True))
        return Q(pk__in=customer_pks)

    def summary(self, request: HttpRequest, customer: Customer) -> CustomerPagePanel | None:
        return customer_glance(request, customer)

    def panel(self, request: HttpRequest, customer: Customer) -> CustomerPagePanel | None:
        return loyalty_customer_panel(request, customer)

    def tools(self, request: HttpRequest, customer: Customer) -> list[CustomerPageTool]:
        if customer.status == Customer.Status.ERASED or not _may_erase(request):
            return []
        url = reverse("admin:crm_customer_erase", args=(customer.pk,))
        return [CustomerPageTool(label=_("Erase personal data"), url=url, css_class="erase-customer")]

    def get_urls(self, customer_admin: CustomerAdmin) -> list[URLPattern]:
        def erase_view(request: HttpRequest, object_id: str) -> HttpResponse:
            return customer_erase_view(customer_admin, request, object_id)

        erase = path(
            "<path:object_id>/erase/", customer_admin.admin_site.admin_view(erase_view), name="crm_customer_erase"
        )
        return [erase]


customer_page_extension_register(LoyaltyCustomerPage())
