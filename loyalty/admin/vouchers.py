"""Vouchers and voucher batches, view-only but for the services behind "Issue a voucher", "Cancel" and the CSV
exports, which stream so that a campaign's 100,000 codes never sit in memory."""

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.admin import TIMESTAMPS, LargeTablePaginator, ViewOnlyMixin, admin_error_text
from core.exceptions import ApplicationError
from crm.models import Customer
from loyalty.coupon_codes import code_normalise
from loyalty.models import CouponDefinition, Voucher, VoucherBatch
from loyalty.selectors.accounts import customer_pks_by_loyalty_id
from loyalty.services.vouchers import voucher_cancel, voucher_issue

VOUCHER_CSV_COLUMNS = ("code", "status", "origin", "customer", "expires_at", "redeemed_at")
VOUCHER_EXPORT_CHUNK = 2000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer feeding a streaming response."""

    def write(self, value: str) -> str:
        return value


def _voucher_csv_rows(queryset: QuerySet[Voucher]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(VOUCHER_CSV_COLUMNS)
    rows = queryset.order_by("pk").values_list(
        "code", "status", "origin", "customer__public_id", "expires_at", "redeemed_at"
    )
    # iterator(): rows are fetched chunk by chunk (a server-side cursor on PostgreSQL), never all at once.
    for code, status, origin, customer, expires_at, redeemed_at in rows.iterator(chunk_size=VOUCHER_EXPORT_CHUNK):
        yield writer.writerow(
            (
                code,
                status,
                origin,
                customer or "",
                expires_at.isoformat() if expires_at else "",
                redeemed_at.isoformat() if redeemed_at else "",
            )
        )


def _voucher_csv_response(queryset: QuerySet[Voucher], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_voucher_csv_rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Voucher)
class VoucherAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only: vouchers change through the coupon services. "Cancel" calls voucher_cancel and needs the "change
    voucher" permission; "Export selected to CSV" streams, so that a campaign's 100,000 codes never sit in memory."""

    list_display = ("code", "definition", "customer", "status", "origin", "issued_at", "expires_at", "redeemed_at")
    # A batch's vouchers are reached from the batch's page (?batch__id__exact=<pk>): a filter listing every batch
    # would grow without end.
    list_filter = ("status", "origin", "definition")
    list_select_related = ("definition", "customer")
    raw_id_fields = ("customer", "batch")
    # Vouchers are issued in bulk: page by the primary key and skip the unfiltered COUNT(*).
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-pk",)
    sortable_by = ()
    show_full_result_count = False
    # Switches the search box on; get_search_results replaces the stock search with exact, indexed lookups.
    search_fields = ("normalised_code",)
    search_help_text = "Voucher code (any spacing or case) or customer id."
    actions = ("export_csv", "cancel")
    fieldsets = (
        (None, {"fields": ("code", "definition", "customer", "status", "origin", "batch")}),
        ("When", {"fields": ("issued_at", "claimed_at", "redeemed_at", "cancelled_at", "expires_at")}),
        ("Redemption", {"fields": ("redeemed_transaction_id", "redeemed_store", "redemption_amount")}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Voucher]:
        return super().get_queryset(request).select_related("definition", "customer", "redeemed_store")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Voucher], search_term: str
    ) -> tuple[QuerySet[Voucher], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # The customer is looked up first: an OR across a join cannot be answered from the two indexes.
        customer_pks = list(Customer.objects.filter(public_id=term.upper()).values_list("pk", flat=True))
        return queryset.filter(Q(normalised_code=code_normalise(term)) | Q(customer_id__in=customer_pks)), False

    def get_urls(self) -> list[URLPattern]:
        issue = path("issue/", self.admin_site.admin_view(self.issue_view), name="loyalty_voucher_issue")
        return [issue, *super().get_urls()]

    def has_issue_permission(self, request: HttpRequest) -> bool:
        # The stock add form stays off (ViewOnlyMixin): "add voucher" is what allows issuing through the service.
        return request.user.has_perm("loyalty.add_voucher")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = dict(extra_context or {})
        if self.has_issue_permission(request):
            extra_context["issue_voucher_url"] = reverse("admin:loyalty_voucher_issue")
        return super().changelist_view(request, extra_context)

    def issue_view(self, request: HttpRequest) -> HttpResponse:
        """Issue one voucher to a customer (voucher_issue): the coupon's dates and limits apply as everywhere. The
        form may come prefilled (?definition=<pk>&customer=<id>) from the coupon's page or the customer's page.
        The admin's history records who issued it."""
        if not self.has_issue_permission(request):
            raise PermissionDenied
        form = IssueVoucherForm(request.POST if request.method == "POST" else None, initial=request.GET.dict())
        if form.is_valid():
            data = form.cleaned_data
            try:
                voucher = voucher_issue(
                    definition=data["definition"], customer=data["customer"], expires_at=data["expires_at"]
                )
            except ApplicationError as error:
                form.add_error(None, admin_error_text(error))
            else:
                self.log_addition(request, voucher, [{"added": {}}])
                self.message_user(
                    request,
                    f"Voucher {voucher.code} of {voucher.definition.name} issued to {data['customer'].public_id}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:loyalty_voucher_change", args=(voucher.pk,)))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Issue a voucher",
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/loyalty/voucher/issue.html", context)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        # The admin's own change permission is off (no field is edited by hand); the Django permission "change
        # voucher" is what allows cancelling through the service.
        return request.user.has_perm("loyalty.change_voucher")

    @admin.action(description="Export selected to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> StreamingHttpResponse:
        return _voucher_csv_response(queryset, "vouchers.csv")

    @admin.action(description="Cancel", permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> None:
        cancelled = 0
        for code in queryset.values_list("code", flat=True):
            try:
                voucher_cancel(code=code)
            except ApplicationError as error:
                self.message_user(request, f"{code}: {error.message}", messages.ERROR)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"{cancelled} voucher(s) cancelled.", messages.SUCCESS)


class IssueVoucherForm(forms.Form):
    """One voucher of a coupon for one customer, as marketing gives it by hand (a goodwill gesture, a complaint, a
    competition prize). The customer is named as the store staff know them: customer id, account or card number."""

    definition = forms.ModelChoiceField(
        queryset=CouponDefinition.objects.filter(is_active=True).select_related("program").order_by("name", "pk"),
        label="Coupon",
        help_text="Active coupons only.",
    )
    customer = forms.CharField(
        max_length=64, strip=True, label="Customer", help_text="Customer id, loyalty account number or card number."
    )
    expires_at = forms.SplitDateTimeField(
        required=False,
        widget=AdminSplitDateTime,
        label="Expires at",
        help_text="Empty: when the coupon ends.",
    )

    def clean_customer(self) -> Customer:
        term = self.cleaned_data["customer"]
        customer = Customer.objects.filter(public_id=term.upper()).first()
        if customer is None:
            customer_pks = list(customer_pks_by_loyalty_id(loyalty_id=term).values_list("customer_id", flat=True))
            customer = Customer.objects.filter(pk__in=customer_pks).order_by("pk").first()
        if customer is None:
            raise forms.ValidationError(_("No customer has this id, account number or card number."), code="unknown")
        if customer.status == Customer.Status.ERASED:
            raise forms.ValidationError(_("This customer's personal data was erased."), code="erased")
        return customer

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        definition, expires_at = data.get("definition"), data.get("expires_at")
        if expires_at is not None:
            if expires_at <= timezone.now():
                self.add_error("expires_at", _("The expiry must lie in the future."))
            elif definition is not None and definition.valid_until and expires_at > definition.valid_until:
                self.add_error("expires_at", _("The coupon ends before this: leave it empty to use the coupon's end."))
        return data


def _batch_vouchers_url(batch_pk: int) -> str:
    return reverse("admin:loyalty_voucher_changelist") + f"?batch__id__exact={batch_pk}"


@admin.register(VoucherBatch)
class VoucherBatchAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only: a batch is queued from its coupon's "Generate vouchers" page and filled by a Celery job. Its page
    reloads itself every few seconds while the job runs (the template), links to the vouchers the batch made
    (Voucher.batch) and exports them to CSV."""

    list_display = ("created_at", "definition", "status", "progress", "created_by", "started_at", "finished_at")
    list_filter = ("status",)
    list_select_related = ("definition", "created_by")
    ordering = ("-pk",)
    fieldsets = (
        (None, {"fields": ("definition", "status", "progress", "error")}),
        ("When", {"fields": ("created_by", "created_at", "started_at", "finished_at", "updated_at")}),
    )
    readonly_fields = ("progress",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoucherBatch]:
        return super().get_queryset(request).select_related("definition", "created_by")

    @admin.display(description="progress")
    def progress(self, batch: VoucherBatch) -> SafeString:
        return format_html(
            '<progress value="{}" max="{}"></progress> Issued {} of {} ({}%)',
            batch.issued_count,
            batch.requested_count,
            f"{batch.issued_count:,}",
            f"{batch.requested_count:,}",
            batch.progress_percent,
        )

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "<path:object_id>/vouchers.csv",
            self.admin_site.admin_view(self.export_vouchers_view),
            name="loyalty_voucherbatch_export_vouchers",
        )
        return [export, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        batch = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if batch is not None:
            extra_context["in_progress"] = batch.status in (VoucherBatch.Status.QUEUED, VoucherBatch.Status.RUNNING)
            extra_context["vouchers_url"] = _batch_vouchers_url(batch.pk)
            if request.user.has_perm("loyalty.view_voucher"):
                extra_context["export_url"] = reverse("admin:loyalty_voucherbatch_export_vouchers", args=(batch.pk,))
        return super().change_view(request, object_id, form_url, extra_context)

    def export_vouchers_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        if not request.user.has_perm("loyalty.view_voucher"):
            raise PermissionDenied
        batch = self.get_object(request, unquote(object_id))
        if batch is None:
            raise Http404
        vouchers = Voucher.objects.filter(batch=batch)
        return _voucher_csv_response(vouchers, f"vouchers-{batch.definition.code}-batch-{batch.pk}.csv")
