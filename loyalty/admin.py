"""The loyalty back office, and the loyalty part of the customer page.

crm may not import loyalty, so crm's CustomerAdmin knows nothing of accounts; this module re-registers it with
a subclass that adds the customer's loyalty accounts and search by account number.

Programs and tiers are marketing's configuration and are edited here. Accounts, purchases and the ledger are
read-only: points move only through the services, and the one write offered, "Adjust points", calls
points_adjust_by_admin with the admin user as the source.
"""

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.admin import ServiceModelAdmin, ViewOnlyMixin
from core.exceptions import ApplicationError
from crm.admin import TIMESTAMPS, CustomerAdmin
from crm.models import Customer
from loyalty.coupon_codes import code_normalise
from loyalty.models import (
    SESSION_CHANNELS,
    CouponDefinition,
    LoyaltyAccount,
    PointsEntry,
    Program,
    Purchase,
    Tier,
    TierChange,
    Voucher,
)
from loyalty.selectors import customer_pks_by_loyalty_id
from loyalty.services.coupons import coupon_definition_create, voucher_cancel
from loyalty.services.ledger import account_balances
from loyalty.services.points import points_adjust_by_admin
from loyalty.services.tiers import qualifying_value

LEDGER_INLINE_SIZE = 50
# One adjustment request locks every selected account until it commits: keep it to what a person checks by eye.
ADJUST_MAX_ACCOUNTS = 100
ADJUST_MAX_POINTS = 1_000_000


# Programs and tiers ------------------------------------------------------------------------------------------


class TierInline(admin.TabularInline):
    model = Tier
    fields = ("rank", "code", "name", "threshold", "renewal_threshold", "earn_multiplier")
    ordering = ("rank",)
    extra = 0
    show_change_link = True


# Programs and tiers are marketing's configuration; their only invariants (one default program, tier codes and
# ranks unique per program, a positive burn value) are constraints the forms validate, and no service edits them.
# A changed rule applies from the next purchase or evaluation on; nothing already in the ledger is recomputed.
class ProgramAdminForm(forms.ModelForm):
    auto_enrol_channels = forms.TypedMultipleChoiceField(
        choices=[(channel, channel) for channel in SESSION_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Auto-enrol on channels",
        help_text="A shopper session on these channels enrols a new shopper into the program.",
    )

    class Meta:
        model = Program
        fields = ("auto_enrol_channels",)  # the admin adds the rest from its fieldsets


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    form = ProgramAdminForm
    list_display = ("code", "name", "currency", "is_default", "is_active", "earn_rate", "pending_days", "created_at")
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("code", "name", "currency", "is_default", "is_active")}),
        ("Earning", {"fields": ("earn_rate", "earn_rounding", "earn_basis", "excluded_products", "burn_value")}),
        ("Pending and expiry", {"fields": ("pending_days", "points_expiry_days")}),
        ("Tiers", {"fields": ("tier_qualification", "tier_window_days", "tier_validity_days")}),
        ("Refunds", {"fields": ("negative_balance_policy",)}),
        ("Enrolment", {"fields": ("auto_enrol_channels",)}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )
    inlines = (TierInline,)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "rank", "code", "threshold", "renewal_threshold", "earn_multiplier")
    list_filter = ("program",)
    list_select_related = ("program",)
    ordering = ("program", "rank")
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("program", "rank", "code", "name", "title", "subtitle")}),
        ("Qualifying", {"fields": ("threshold", "renewal_threshold")}),
        ("Benefits", {"fields": ("earn_multiplier", "benefits")}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )


# Loyalty accounts ----------------------------------------------------------------------------------------------


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


# A template file would live under templates/, which belongs to the shared layout; this page is small enough to
# keep next to the only code that renders it.
ADJUST_POINTS_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% load i18n admin_urls %}
{% block bodyclass %}{{ block.super }} app-{{ opts.app_label }} model-{{ opts.model_name }}{% endblock %}
{% block breadcrumbs %}
<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">{% translate 'Home' %}</a>
&rsaquo; <a href="{% url 'admin:app_list' app_label=opts.app_label %}">{{ opts.app_config.verbose_name }}</a>
&rsaquo; <a href="{% url opts|admin_urlname:'changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}
</div>
{% endblock %}
{% block content %}
<ul>{% for account in accounts %}<li>{{ account.account_number }}: {{ account.points_balance }} points</li>
{% endfor %}</ul>
<form method="post" action="{{ changelist_url }}">{% csrf_token %}
<input type="hidden" name="action" value="adjust_points">
{% for account in accounts %}<input type="hidden" name="{{ action_checkbox_name }}" value="{{ account.pk }}">
{% endfor %}
<fieldset class="module aligned">
{% for field in form %}<div class="form-row">{{ field.errors }}{{ field.label_tag }} {{ field }}
{% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}</div>
{% endfor %}
</fieldset>
<div class="submit-row"><input type="submit" name="apply" value="{{ title }}" class="default"></div>
</form>
{% endblock %}"""
)


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
    inlines = (PointsEntryInline, TierChangeInline)

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
        lines = [f"Qualifying value over the last {program.tier_window_days} days: {_amount(program, value)}"]
        tiers = list(program.tiers.order_by("rank"))
        rank = account.tier.rank if account.tier else -1
        following = next((tier for tier in tiers if tier.rank > rank), None)
        if following is None:
            lines.append("Top tier reached.")
        else:
            gap = max(following.threshold - value, Decimal("0"))
            lines.append(
                f"Next tier: {following.name} at {_amount(program, following.threshold)} "
                f"({_amount(program, gap)} to go)."
            )
        if account.tier is not None and account.tier_expires_at is not None:
            keep = account.tier.keep_threshold
            gap = max(keep - value, Decimal("0"))
            status = "met" if gap == 0 else f"{_amount(program, gap)} to go"
            lines.append(f"To keep {account.tier.name} at its expiry: {_amount(program, keep)} ({status}).")
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
        with transaction.atomic():
            for account in accounts:
                try:
                    points_adjust_by_admin(account=account, points=points, user=request.user, note=note)
                except ApplicationError as error:
                    # Undoes the accounts adjusted before this one too.
                    transaction.set_rollback(True)
                    message = f"{account.account_number}: {error.message} Nothing was changed."
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
        return TemplateResponse(request, ADJUST_POINTS_TEMPLATE, context)


def _amount(program: Program, value: Decimal) -> str:
    if program.tier_qualification == Program.TierQualification.POINTS:
        return f"{value:,.0f} points"
    return f"{value:,.2f} {program.currency}"


class LoyaltyAccountInline(ViewOnlyMixin, admin.TabularInline):
    model = LoyaltyAccount
    fields = ("account_number", "program", "tier", "state", "points_balance")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[LoyaltyAccount]:
        return super().get_queryset(request).select_related("program", "tier__program")


class LoyaltyCustomerAdmin(CustomerAdmin):
    inlines = (*CustomerAdmin.inlines, LoyaltyAccountInline)
    search_help_text = "First or last name (or “first last”), email, phone, customer id or loyalty account number."

    def search_condition(self, term: str) -> Q:
        # Resolved to pks first: inside an OR, an `IN (subquery)` cannot use an index on PostgreSQL and would be
        # checked against every customer row.
        customer_pks = list(customer_pks_by_loyalty_id(loyalty_id=term).values_list("customer_id", flat=True))
        return super().search_condition(term) | Q(pk__in=customer_pks)


admin.site.unregister(Customer)
admin.site.register(Customer, LoyaltyCustomerAdmin)


# Purchases and the ledger --------------------------------------------------------------------------------------


class PurchaseEntryInline(ViewOnlyMixin, admin.TabularInline):
    model = PointsEntry
    fk_name = "purchase"
    verbose_name_plural = "ledger entries"
    fields = ("created_at", "kind", "bucket", "points", "expires_at", "source", "note", "created_by")
    readonly_fields = fields
    ordering = ("created_at", "id")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsEntry]:
        return super().get_queryset(request).select_related("created_by")


@admin.register(Purchase)
class PurchaseAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only: purchases are written by the checkout, accept, reject and refund services."""

    list_display = (
        "transaction_id",
        "account",
        "program",
        "store",
        "state",
        "total",
        "points_earned",
        "points_burned",
        "purchased_at",
        "confirm_at",
    )
    list_filter = ("state", "store")
    list_select_related = ("account", "program", "store")
    # The table grows with every checkout: page by the primary key and skip the unfiltered COUNT(*).
    ordering = ("-pk",)
    sortable_by = ()
    show_full_result_count = False
    search_fields = ("transaction_id",)
    search_help_text = "Transaction id (exact)."
    fieldsets = (
        (None, {"fields": ("transaction_id", "program", "account", "store", "channel", "state")}),
        ("When", {"fields": ("purchased_at", "confirm_at", *TIMESTAMPS)}),
        ("Amounts", {"fields": ("currency", "total", "eligible_total", "refunded_total", "items")}),
        (
            "Points",
            {
                "fields": (
                    "points_base",
                    "points_bonus",
                    "points_earned",
                    "points_burned",
                    "points_taken_back",
                    "points_returned",
                    "points_forgiven",
                )
            },
        ),
        ("Idempotency", {"fields": ("request_fingerprint", "first_response"), "classes": ("collapse",)}),
    )
    inlines = (PurchaseEntryInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Purchase]:
        return super().get_queryset(request).select_related("account", "program", "store")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Purchase], search_term: str
    ) -> tuple[QuerySet[Purchase], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # Transaction ids are unique per program: naming every program (there are a handful) lets the database
        # answer from the (program, transaction_id) unique index instead of scanning purchases.
        program_pks = list(Program.objects.values_list("pk", flat=True))
        return queryset.filter(program_id__in=program_pks, transaction_id=term), False


@admin.register(PointsEntry)
class PointsEntryAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The append-only ledger: view-only; corrections are new entries, made by the services."""

    list_display = (
        "created_at",
        "account",
        "kind",
        "bucket",
        "points",
        "expires_at",
        "purchase",
        "source",
        "created_by",
    )
    # Filters on choices only: a filter on `source` would run SELECT DISTINCT over the whole ledger on every page.
    list_filter = ("kind", "bucket")
    list_select_related = ("account", "purchase", "created_by")
    ordering = ("-pk",)
    sortable_by = ()
    show_full_result_count = False
    search_fields = ("account__account_number",)
    search_help_text = "Loyalty account number (exact)."
    fields = (
        "account",
        "kind",
        "bucket",
        "points",
        "is_lot",
        "lot",
        "expires_at",
        "purchase",
        "reservation",
        "idempotency_key",
        "source",
        "note",
        "created_by",
        "created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsEntry]:
        return super().get_queryset(request).select_related("account", "lot", "purchase", "created_by")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PointsEntry], search_term: str
    ) -> tuple[QuerySet[PointsEntry], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # The account is looked up first, so that the ledger is filtered on its indexed account column.
        account_pks = list(LoyaltyAccount.objects.filter(account_number=term).values_list("pk", flat=True))
        return queryset.filter(account_id__in=account_pks), False


# Coupons ---------------------------------------------------------------------------------------------------------


class CouponDefinitionAdminForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(choices=CouponDefinition.Channel.choices, widget=forms.CheckboxSelectMultiple)

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        program = cleaned_data.get("program") or getattr(self.instance, "program", None)
        tiers = cleaned_data.get("eligible_tiers") or []
        if program is not None and any(tier.program_id != program.pk for tier in tiers):
            self.add_error("eligible_tiers", _("Choose tiers of the coupon's program."))
        return cleaned_data


@admin.register(CouponDefinition)
class CouponDefinitionAdmin(ServiceModelAdmin):
    """Marketing's coupon configuration. A new definition is created by coupon_definition_create.

    There is no update service yet: an edit is validated with full_clean (the model's constraints) and saved here.
    Program and code are fixed once created, since vouchers and tills name a coupon by them; a changed rule
    applies from the next issue, claim or redemption on, and vouchers already issued keep their codes."""

    form = CouponDefinitionAdminForm
    list_display = (
        "name",
        "code",
        "program",
        "kind",
        "value",
        "valid_from",
        "valid_until",
        "channel_list",
        "auto_apply",
        "is_active",
    )
    list_filter = ("is_active", "kind", "auto_apply", "program")
    list_select_related = ("program",)
    search_fields = ("code", "name")
    filter_horizontal = ("eligible_tiers",)
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("program", "code", "name", "description", "is_active")}),
        ("Discount", {"fields": ("kind", "value", "product_id")}),
        ("Where and when", {"fields": ("valid_from", "valid_until", "channels", "auto_apply")}),
        ("Who", {"fields": ("eligible_tiers", "min_basket")}),
        ("Limits", {"fields": ("limit_per_customer", "limit_total")}),
        ("Codes", {"fields": ("code_pattern",)}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: CouponDefinition | None = None) -> tuple[str, ...]:
        return TIMESTAMPS if obj is None else ("program", "code", *TIMESTAMPS)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "eligible_tiers":
            # A tier's name shows its program's code.
            kwargs["queryset"] = Tier.objects.select_related("program").order_by("program", "rank")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="channels")
    def channel_list(self, definition: CouponDefinition) -> str:
        return ", ".join(definition.channels)

    def save_model(self, request: HttpRequest, obj: CouponDefinition, form: forms.ModelForm, change: bool) -> None:
        if change:
            # Gap: no coupon_definition_update service exists; validate as the create service does, then save.
            obj.full_clean()
            obj.save()
            return
        data = form.cleaned_data
        other_fields = {
            name: data[name]
            for name in (
                "description",
                "product_id",
                "valid_from",
                "valid_until",
                "channels",
                "auto_apply",
                "min_basket",
                "limit_per_customer",
                "limit_total",
                "code_pattern",
                "is_active",
            )
        }
        definition = coupon_definition_create(
            program=data["program"],
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            value=data["value"],
            eligible_tiers=list(data["eligible_tiers"]),
            **other_fields,
        )
        # The admin saves the many-to-many fields, logs the addition and redirects using `obj`: make it the row
        # the service created.
        obj.pk = definition.pk
        obj.created_at = definition.created_at
        obj.updated_at = definition.updated_at
        obj._state.adding = False


VOUCHER_CSV_COLUMNS = ("code", "status", "customer", "expires_at", "redeemed_at")
VOUCHER_EXPORT_CHUNK = 2000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer feeding a streaming response."""

    def write(self, value: str) -> str:
        return value


def _voucher_csv_rows(queryset: QuerySet[Voucher]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(VOUCHER_CSV_COLUMNS)
    rows = queryset.order_by("pk").values_list("code", "status", "customer__public_id", "expires_at", "redeemed_at")
    for code, status, customer, expires_at, redeemed_at in rows.iterator(chunk_size=VOUCHER_EXPORT_CHUNK):
        yield writer.writerow(
            (
                code,
                status,
                customer or "",
                expires_at.isoformat() if expires_at else "",
                redeemed_at.isoformat() if redeemed_at else "",
            )
        )


@admin.register(Voucher)
class VoucherAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only: vouchers change through the coupon services. "Cancel" calls voucher_cancel and needs the "change
    voucher" permission; "Export selected to CSV" streams, so that a campaign's 100,000 codes never sit in memory."""

    list_display = ("code", "definition", "customer", "status", "issued_at", "expires_at", "redeemed_at")
    list_filter = ("status", "definition")
    list_select_related = ("definition", "customer")
    raw_id_fields = ("customer",)
    # Vouchers are issued in bulk: page by the primary key and skip the unfiltered COUNT(*).
    ordering = ("-pk",)
    sortable_by = ()
    show_full_result_count = False
    # Switches the search box on; get_search_results replaces the stock search with exact, indexed lookups.
    search_fields = ("normalised_code",)
    search_help_text = "Voucher code (any spacing or case) or customer id."
    actions = ("export_csv", "cancel")
    fieldsets = (
        (None, {"fields": ("code", "definition", "customer", "status")}),
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

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        # The admin's own change permission is off (no field is edited by hand); the Django permission "change
        # voucher" is what allows cancelling through the service.
        return request.user.has_perm("loyalty.change_voucher")

    @admin.action(description="Export selected to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> StreamingHttpResponse:
        response = StreamingHttpResponse(_voucher_csv_rows(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="vouchers.csv"'
        return response

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


# Admin pages kept in modules of their own, imported here for their registrations.
from loyalty import admin_customer_panel, admin_dashboard, admin_scan_and_go  # noqa: E402, F401, I001
