"""Loyalty accounts: view-only pages with balances, tier progress, the latest ledger entries, tier changes and cards.

Points move only through the services. The one write offered, "Adjust points" (an action on the list and a button on
the account page), calls points_adjust_accounts_by_admin with the admin user as the source.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.admin import TIMESTAMPS, LargeTablePaginator, ViewOnlyMixin
from core.exceptions import ApplicationError
from crm.models import Customer
from loyalty.admin.cards import CardInline
from loyalty.admin.common import quantity_text
from loyalty.models import LoyaltyAccount, PointsEntry, TierChange
from loyalty.services.adjustments import points_adjust_accounts_by_admin
from loyalty.services.ledger import account_balances
from loyalty.services.tiers import qualifying_value

LEDGER_INLINE_SIZE = 50
# One adjustment request locks every selected account until it commits: keep it to what a person checks by eye.
ADJUST_MAX_ACCOUNTS = 100
ADJUST_MAX_POINTS = 1_000_000


class LatestEntriesFormSet(BaseInlineFormSet):
    """Only the latest entries: an account's ledger grows without bound. Cached, because the formset asks for its
    queryset several times and a sliced queryset would run again each time."""

    def get_queryset(self) -> QuerySet[PointsEntry]:
        if not hasattr(self, "_latest_entries"):
            self._latest_entries = super().get_queryset()[:LEDGER_INLINE_SIZE]
        return self._latest_entries


class PointsEntryInline(ViewOnlyMixin, admin.TabularInline):
    model = PointsEntry
    fk_name = "account"
    formset = LatestEntriesFormSet
    verbose_name_plural = f"latest {LEDGER_INLINE_SIZE} ledger entries"
    fields = ("created_at", "kind", "bucket", "points", "expires_at", "purchase", "source", "note", "created_by")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsEntry]:
        return super().get_queryset(request).select_related("purchase", "created_by")


class TierChangeInline(ViewOnlyMixin, admin.TabularInline):
    model = TierChange
    fields = ("changed_at", "from_tier", "to_tier", "reason", "qualifying_value", "expires_at")
    readonly_fields = fields
    ordering = ("-changed_at", "-id")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[TierChange]:
        # A tier's name shows its program's code.
        return super().get_queryset(request).select_related("from_tier__program", "to_tier__program")


class AdjustPointsForm(forms.Form):
    points = forms.IntegerField(
        min_value=-ADJUST_MAX_POINTS,
        max_value=ADJUST_MAX_POINTS,
        help_text="Positive adds points (they expire like earned points), negative takes them away.",
    )
    note = forms.CharField(max_length=200, help_text="Why: shown in the ledger next to your user name.")

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("An adjustment needs a non-zero number of points."), code="invalid")
        return points


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only: accounts change through the enrolment and points services, never by hand. "Adjust points" is
    for users holding the "change loyalty account" permission."""

    list_display = (
        "account_number",
        "customer",
        "program",
        "tier",
        "state",
        "points_balance",
        "tier_expires_at",
    )
    list_filter = ("state", "program")
    # Tier's name shows its program's code.
    list_select_related = ("customer", "program", "tier__program")
    raw_id_fields = ("customer", "address")
    show_full_result_count = False
    # At a million accounts: newest first by primary key (an index scan; ordering by created_at sorted the whole
    # table), no sortable columns, a capped count and no per-filter counts.
    ordering = ("-pk",)
    sortable_by = ()
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    # Switches the search box on; get_search_results replaces the stock case-insensitive search, which
    # PostgreSQL cannot answer from these columns' indexes.
    search_fields = ("account_number",)
    search_help_text = "Account number or customer id."
    actions = ("adjust_points",)
    fieldsets = (
        (None, {"fields": ("account_number", "customer", "program", "state", "enrolled_at", "enrolled_store")}),
        ("Points", {"fields": ("points_balance", "balances")}),
        ("Tier", {"fields": ("tier", "tier_achieved_at", "tier_expires_at", "tier_progress")}),
        ("Other", {"fields": ("address", "store_credit", "opted_out_at", *TIMESTAMPS)}),
    )
    readonly_fields = ("balances", "tier_progress", "adjust_points_link")
    inlines = (PointsEntryInline, TierChangeInline, CardInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[LoyaltyAccount]:
        return super().get_queryset(request).select_related("customer", "program", "tier__program")

    def get_fieldsets(self, request: HttpRequest, obj: LoyaltyAccount | None = None) -> Any:
        if obj is None or not self.has_adjust_points_permission(request):
            return self.fieldsets
        (title, options), *rest = self.fieldsets
        return ((title, {"fields": (*options["fields"], "adjust_points_link")}), *rest)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LoyaltyAccount], search_term: str
    ) -> tuple[QuerySet[LoyaltyAccount], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # The customer is looked up first: an OR across a join cannot be answered from the two indexes.
        customer_pks = list(Customer.objects.filter(public_id=term.upper()).values_list("pk", flat=True))
        return queryset.filter(Q(account_number=term) | Q(customer_id__in=customer_pks)), False

    @admin.display(description="balances (from the ledger)")
    def balances(self, account: LoyaltyAccount) -> SafeString:
        balances = account_balances(account)
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            (
                (name, f"{getattr(balances, name):,}")
                for name in ("spendable", "pending", "reserved", "spent", "expired", "earned", "owed")
            ),
        )
        ledger_url = reverse("admin:loyalty_pointsentry_changelist") + f"?account={account.pk}"
        return format_html('<table>{}</table><a href="{}">Whole ledger</a>', rows, ledger_url)

    @admin.display(description="tier progress")
    def tier_progress(self, account: LoyaltyAccount) -> SafeString:
        program = account.program
        value = qualifying_value(account=account, now=timezone.now())
        lines = [f"Qualifying value over the last {program.tier_window_days} days: {quantity_text(program, value)}"]
        tiers = list(program.tiers.order_by("rank"))
        rank = account.tier.rank if account.tier else -1
        following = next((tier for tier in tiers if tier.rank > rank), None)
        if following is None:
            lines.append("Top tier reached.")
        else:
            gap = max(following.threshold - value, Decimal("0"))
            lines.append(
                f"Next tier: {following.name} at {quantity_text(program, following.threshold)} "
                f"({quantity_text(program, gap)} to go)."
            )
        if account.tier is not None and account.tier_expires_at is not None:
            keep = account.tier.keep_threshold
            gap = max(keep - value, Decimal("0"))
            status = "met" if gap == 0 else f"{quantity_text(program, gap)} to go"
            lines.append(f"To keep {account.tier.name} at its expiry: {quantity_text(program, keep)} ({status}).")
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @admin.display(description="adjust")
    def adjust_points_link(self, account: LoyaltyAccount) -> SafeString:
        url = reverse("admin:loyalty_loyaltyaccount_adjust_points", args=(account.pk,))
        return format_html('<a class="button" href="{}">Adjust points</a>', url)

    def has_adjust_points_permission(self, request: HttpRequest) -> bool:
        # The admin's own change permission is off (no field is edited by hand); the Django permission "change
        # loyalty account" is what allows moving points through the service.
        return request.user.has_perm("loyalty.change_loyaltyaccount")

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust-points/",
            self.admin_site.admin_view(self.adjust_points_view),
            name="loyalty_loyaltyaccount_adjust_points",
        )
        return [adjust, *super().get_urls()]

    def adjust_points_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The account page's "Adjust points" button: the action's form for this one account."""
        if not self.has_adjust_points_permission(request):
            raise PermissionDenied
        account = self.get_object(request, object_id)
        if account is None:
            raise Http404
        return self._adjust_points_page(request, [account], AdjustPointsForm())

    @admin.action(description="Adjust points", permissions=["adjust_points"])
    def adjust_points(self, request: HttpRequest, queryset: QuerySet[LoyaltyAccount]) -> HttpResponse | None:
        """Ask for signed points and a note, then adjust every selected account through points_adjust_by_admin.
        All or nothing: when one account refuses (not enough points), no account is adjusted."""
        accounts = list(queryset.order_by("pk")[: ADJUST_MAX_ACCOUNTS + 1])
        if len(accounts) > ADJUST_MAX_ACCOUNTS:
            self.message_user(request, f"Adjust at most {ADJUST_MAX_ACCOUNTS} accounts at a time.", messages.ERROR)
            return None
        form = AdjustPointsForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._adjust_points_page(request, accounts, form)
        points, note = form.cleaned_data["points"], form.cleaned_data["note"]
        try:
            points_adjust_accounts_by_admin(accounts=accounts, points=points, user=request.user, note=note)
        except ApplicationError as error:
            message = f"{error.extra['account_number']}: {error.message} Nothing was changed."
            self.message_user(request, message, messages.ERROR)
            return self._adjust_points_page(request, accounts, form)
        self.message_user(request, f"Adjusted {len(accounts)} account(s) by {points:+,} points.", messages.SUCCESS)
        if len(accounts) == 1:
            return HttpResponseRedirect(reverse("admin:loyalty_loyaltyaccount_change", args=(accounts[0].pk,)))
        return None

    def _adjust_points_page(
        self, request: HttpRequest, accounts: list[LoyaltyAccount], form: AdjustPointsForm
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Adjust points",
            "accounts": accounts,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:loyalty_loyaltyaccount_changelist"),
        }
        return TemplateResponse(request, "admin/loyalty/loyaltyaccount/adjust_points.html", context)
