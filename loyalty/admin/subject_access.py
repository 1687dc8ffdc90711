"""The subject-access export of one customer (loyalty/selectors/subject_access.py) in the back office: a printable
HTML page and a JSON download, from an object tool of the customer page (crm.admin.CustomerPageExtension, as
customers.py adds "Erase personal data").

Allowed with `loyalty.view_customerdataexport` (the Store managers role). Every export is recorded: an entry in the
customer's admin history (who, when, which format) and a log line.
"""

import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from crm.admin import CustomerAdmin, CustomerPageExtension, CustomerPageTool, customer_page_extension_register
from crm.models import Customer
from loyalty.selectors.subject_access import customer_subject_access_data

logger = logging.getLogger(__name__)

PERMISSION = "loyalty.view_customerdataexport"


def subject_access_json(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


def _sections(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Each list of records as (title, columns, rows) for the printable page; single records as one-row tables."""
    sections = []
    for name, value in data.items():
        if name == "exported_at":
            continue
        records = value if isinstance(value, list) else ([value] if value else [])
        columns = list(records[0]) if records else []
        sections.append((name.replace("_", " ").capitalize(), columns, [[r[c] for c in columns] for r in records]))
    return sections


def subject_access_view(customer_admin: CustomerAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    customer = customer_admin.get_object(request, object_id)
    if customer is None:
        raise Http404
    as_json = request.GET.get("format") == "json"
    data = customer_subject_access_data(customer=customer)
    # The record of who exported whom: the customer's admin history, and the log.
    customer_admin.log_change(request, customer, f"Subject-access export ({'JSON' if as_json else 'printable page'})")
    logger.info(
        "subject access export of customer %s by user %s (%s)",
        customer.public_id, request.user.pk, "json" if as_json else "html",
    )  # fmt: skip
    if as_json:
        response = HttpResponse(subject_access_json(data), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.public_id}.json"'
        return response
    context = {
        **customer_admin.admin_site.each_context(request),
        "opts": customer_admin.opts,
        "title": f"Personal data held about customer {customer.public_id}",
        "customer": customer,
        "exported_at": data["exported_at"],
        "sections": _sections(data),
        "json_url": reverse("admin:crm_customer_subject_access", args=(customer.pk,)) + "?format=json",
    }
    return TemplateResponse(request, "admin/loyalty/customer/subject_access.html", context)


class SubjectAccessCustomerPage(CustomerPageExtension):
    def tools(self, request: HttpRequest, customer: Customer) -> list[CustomerPageTool]:
        if not request.user.has_perm(PERMISSION):
            return []
        url = reverse("admin:crm_customer_subject_access", args=(customer.pk,))
        return [CustomerPageTool(label="Export personal data", url=url, css_class="subject-access-export")]

    def get_urls(self, customer_admin: CustomerAdmin) -> list[URLPattern]:
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            return subject_access_view(customer_admin, request, object_id)

        return [
            path(
                "<path:object_id>/subject-access/",
                customer_admin.admin_site.admin_view(view),
                name="crm_customer_subject_access",
            )
        ]


customer_page_extension_register(SubjectAccessCustomerPage())
