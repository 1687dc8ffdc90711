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
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.admin import TIMESTAMPS, LargeTablePaginator, ServiceModelAdmin, ViewOnlyMixin, admin_error_text
from core.exceptions import ApplicationError
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
    TierBenefitCoupon,
    TierBenefitGrant,
    TierChange,
    Voucher,
    VoucherBatch,
)
from loyalty.rules.coupons import FAILURE_DESCRIPTIONS, CouponTerms
from loyalty.selectors.accounts import customer_pks_by_loyalty_id
from loyalty.services.adjustments import points_adjust_accounts_by_admin
from loyalty.services.coupons import (
    UPDATABLE_FIELDS,
    coupon_definition_create,
    coupon_definition_update,
    coupon_definition_update_check,
    coupon_eligibility_for_customer,
    coupon_eligibility_preview,
    voucher_cancel,
    voucher_issue,
)
from loyalty.services.ledger import account_balances
from loyalty.services.tier_benefits import (
    tier_benefit_coupon_check,
    tier_benefit_coupon_create,
    tier_benefit_coupon_update,
)
from loyalty.services.tiers import qualifying_value
from loyalty.services.voucher_batches import coupon_room_left, voucher_batch_create

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
        (None, {"fields": ("code", "name", "currency", "default_language", "is_default", "is_active")}),
        ("Earning", {"fields": ("earn_rate", "earn_rounding", "earn_basis", "excluded_products", "burn_value")}),
        ("Pending and expiry", {"fields": ("pending_days", "points_expiry_days")}),
        ("Tiers", {"fields": ("tier_qualification", "tier_window_days", "tier_validity_days")}),
        ("Refunds", {"fields": ("negative_balance_policy",)}),
        ("Enrolment", {"fields": ("auto_enrol_channels",)}),
        ("Cards", {"fields": ("card_number_strip_leading_zeros",)}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )
    inlines = (TierInline,)


# Tier benefits: edited inline on the tier's page and on their own pages (below) ----------------------------


def _form_add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field where the form has it, above the form otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, field_errors)


class TierBenefitCouponForm(forms.ModelForm):
    class Meta:
        model = TierBenefitCoupon
        fields = ("tier", "definition", "on_enrolment", "on_upgrade", "validity_days", "is_active")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data
        # An inline form has no tier field: its tier is the page's, already set on the instance.
        tier = cleaned_data.get("tier") or getattr(self.instance, "tier", None)
        definition = cleaned_data.get("definition")
        if tier is not None and definition is not None:
            try:
                tier_benefit_coupon_check(tier=tier, definition=definition)
            except ValidationError as error:
                _form_add_errors(self, error)
        return cleaned_data


BENEFIT_FORM_FIELDS = ("definition", "on_enrolment", "on_upgrade", "validity_days", "is_active")


def _benefit_save(form: forms.ModelForm, tier: Tier) -> TierBenefitCoupon:
    fields = {name: form.cleaned_data[name] for name in BENEFIT_FORM_FIELDS}
    if form.instance.pk is None:
        return tier_benefit_coupon_create(tier=tier, **fields)
    return tier_benefit_coupon_update(benefit=form.instance, tier=tier, **fields)


class TierBenefitCouponInline(admin.TabularInline):
    model = TierBenefitCoupon
    form = TierBenefitCouponForm
    fields = BENEFIT_FORM_FIELDS
    extra = 0
    # Deleting a benefit would delete its grants, the record that each member got it once: see the admin below.
    can_delete = False
    verbose_name = "coupon given by the tier"
    verbose_name_plural = "coupons given by the tier (on enrolment, on upgrade)"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "definition":
            kwargs["queryset"] = CouponDefinition.objects.select_related("program")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TierBenefitCoupon]:
        return super().get_queryset(request).select_related("definition", "tier__program")


@admin.register(Tier)
class TierAdmin(ServiceModelAdmin):
    list_display = ("name", "program", "rank", "code", "threshold", "renewal_threshold", "earn_multiplier")
    list_filter = ("program",)
    list_select_related = ("program",)
    ordering = ("program", "rank")
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("program", "rank", "code", "name", "title", "subtitle")}),
        ("Qualifying", {"fields": ("threshold", "renewal_threshold")}),
        ("Benefits", {"fields": ("earn_multiplier", "benefits")}),
        ("Scan & Go", {"fields": ("spot_check_bias",)}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )
    inlines = (TierBenefitCouponInline,)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not TierBenefitCoupon:
            super().save_formset(request, form, formset, change)
            return
        # Benefits are written by their services; the lists are what the admin's change message reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed():
                continue
            benefit = _benefit_save(inline_form, form.instance)
            if inline_form.instance.pk is None:
                formset.new_objects.append(benefit)
            else:
                formset.changed_objects.append((benefit, inline_form.changed_data))


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
    # Any inlines, not only these two: loyalty/admin/scan_and_go.py appends the cards' inline.
    inlines: ClassVar[tuple[type[InlineModelAdmin], ...]] = (PointsEntryInline, TierChangeInline)

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
        return TemplateResponse(request, ADJUST_POINTS_TEMPLATE, context)


def _amount(program: Program, value: Decimal) -> str:
    if program.tier_qualification == Program.TierQualification.POINTS:
        return f"{value:,.0f} points"
    return f"{value:,.2f} {program.currency}"


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
    raw_id_fields = ("account",)
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
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
    raw_id_fields = ("account", "lot", "purchase")
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
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
        super().clean()
        cleaned_data = self.cleaned_data
        program = cleaned_data.get("program") or getattr(self.instance, "program", None)
        tiers = cleaned_data.get("eligible_tiers") or []
        if program is not None and any(tier.program_id != program.pk for tier in tiers):
            self.add_error("eligible_tiers", _("Choose tiers of the coupon's program."))
        elif self.instance.pk is not None and not self.errors:
            # The update service's refusals, shown on the form; it checks them again under the row lock.
            # (self.instance still holds the saved values here: the form copies its data onto it after clean.)
            try:
                coupon_definition_update_check(
                    definition=self.instance,
                    eligible_tiers=list(tiers),
                    **{name: cleaned_data[name] for name in UPDATABLE_FIELDS if name in cleaned_data},
                )
            except ValidationError as error:
                _form_add_errors(self, error)
        return cleaned_data


COUPON_FORM_FIELDS = (
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
# The admin form's ceiling; the service allows more, for a command-line or API batch.
GENERATE_MAX = 100_000


class GenerateVouchersForm(forms.Form):
    count = forms.IntegerField(
        min_value=1,
        max_value=GENERATE_MAX,
        label="Number of vouchers",
        help_text=f"Anonymous codes, made by a background job; at most {GENERATE_MAX:,} at a time.",
    )

    def __init__(self, *args: Any, room: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room = room
        if room is not None:
            self.fields["count"].widget.attrs["max"] = min(room, GENERATE_MAX)

    def clean_count(self) -> int:
        count = self.cleaned_data["count"]
        if self.room is not None and count > self.room:
            raise forms.ValidationError(
                _("The coupon's total limit allows %(room)s more vouchers.") % {"room": f"{self.room:,}"},
                code="limit_total",
            )
        return count


class CouponPreviewForm(forms.Form):
    """The coupon form's current values, as the preview endpoint reads them (its field names are the admin
    form's, the date-times split in two like the admin's widgets), and the customer to test."""

    program = forms.ModelChoiceField(queryset=Program.objects.all(), required=False)
    kind = forms.ChoiceField(choices=CouponDefinition.Kind.choices, required=False)
    value = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    channels = forms.MultipleChoiceField(choices=CouponDefinition.Channel.choices, required=False)
    eligible_tiers = forms.ModelMultipleChoiceField(queryset=Tier.objects.all(), required=False)
    valid_from = forms.SplitDateTimeField(required=False)
    valid_until = forms.SplitDateTimeField(required=False)
    min_basket = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    limit_per_customer = forms.IntegerField(required=False, min_value=1)
    limit_total = forms.IntegerField(required=False, min_value=1)
    is_active = forms.BooleanField(required=False)
    customer = forms.CharField(max_length=64, required=False, strip=True)
    basket = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    channel = forms.ChoiceField(choices=CouponDefinition.Channel.choices, required=False)

    def __init__(self, *args: Any, program: Program | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_program = program

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        program = self.fixed_program or data.get("program")
        if program is None and "program" not in self.errors:
            self.add_error("program", _("Choose the coupon's program."))
        tiers = data.get("eligible_tiers") or []
        if program is not None and any(tier.program_id != program.pk for tier in tiers):
            self.add_error("eligible_tiers", _("Choose tiers of the coupon's program."))
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None and end <= start:
            self.add_error("valid_until", _("The end must come after the start."))
        if data.get("kind") == CouponDefinition.Kind.PERCENT and data.get("value") is not None:
            if not 0 < data["value"] <= 100:
                self.add_error("value", _("A percentage is more than 0 and at most 100."))
        data["program"] = program
        return data

    def terms(self) -> CouponTerms:
        data = self.cleaned_data
        return CouponTerms(
            kind=data.get("kind") or CouponDefinition.Kind.PERCENT,
            value=data.get("value") or Decimal("0"),
            is_active=data.get("is_active", False),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            channels=frozenset(data.get("channels") or ()),
            eligible_tiers=frozenset(tier.code for tier in data.get("eligible_tiers") or ()),
            min_basket=data.get("min_basket") or Decimal("0"),
            limit_per_customer=data.get("limit_per_customer"),
            limit_total=data.get("limit_total"),
        )


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "text": FAILURE_DESCRIPTIONS.get(code, code)} for code in codes]


def _preview_payload(form: CouponPreviewForm, definition: CouponDefinition | None) -> dict[str, Any]:
    data, terms, now = form.cleaned_data, form.terms(), timezone.now()
    program = data["program"]
    preview = coupon_eligibility_preview(program=program, terms=terms, definition=definition, now=now)
    limit_total = data.get("limit_total")
    payload: dict[str, Any] = {
        "now": now.isoformat(),
        "open": not preview.closed_reasons,
        "closed_reasons": _reasons(preview.closed_reasons),
        "members": preview.members,
        "eligible": preview.eligible,
        "tiers": [
            {"code": tier.code, "name": tier.name, "members": tier.members, "eligible": tier.eligible}
            for tier in preview.tiers
        ],
        "vouchers": {
            "live": preview.live_vouchers,
            "redeemed": preview.redeemed_vouchers,
            "limit_total": limit_total,
            "left": None if limit_total is None else max(limit_total - preview.live_vouchers, 0),
        },
        "customer": None,
    }
    if data.get("customer"):
        result = coupon_eligibility_for_customer(
            program=program,
            terms=terms,
            definition=definition,
            identifier=data["customer"],
            channel=data.get("channel") or CouponDefinition.Channel.POS,
            basket=data.get("basket") or Decimal("0"),
            now=now,
        )
        if result is None:
            payload["customer"] = {"found": False, "message": _("No customer with this id or account number.")}
        else:
            payload["customer"] = {
                "found": True,
                "public_id": result.public_id,
                "tier": result.tier,
                "eligible": result.eligible,
                "reasons": _reasons(result.reasons),
                "discount": None if result.discount is None else str(result.discount),
            }
    return payload


@admin.register(CouponDefinition)
class CouponDefinitionAdmin(ServiceModelAdmin):
    """Marketing's coupon configuration: created by coupon_definition_create, edited by coupon_definition_update
    (program and code stay fixed; the form shows the service's refusals). The change page previews who is eligible
    while the form is edited (preview_view, loyalty/static/loyalty/coupon_preview.js) and offers "Generate
    vouchers", which queues a VoucherBatch."""

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
        data = form.cleaned_data
        fields = {name: data[name] for name in COUPON_FORM_FIELDS}
        tiers = list(data["eligible_tiers"])
        if change:
            coupon_definition_update(
                definition=obj,
                eligible_tiers=tiers,
                name=data["name"],
                kind=data["kind"],
                value=data["value"],
                **fields,
            )
            return
        definition = coupon_definition_create(
            program=data["program"],
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            value=data["value"],
            eligible_tiers=tiers,
            **fields,
        )
        # The admin logs the addition and redirects using `obj`: make it the row the service created.
        obj.pk = definition.pk
        obj.created_at = definition.created_at
        obj.updated_at = definition.updated_at
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        # Both services set the eligible tiers themselves; the form's save_m2m would write them a second time.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # Extra pages ---------------------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="loyalty_coupondefinition_preview_new",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="loyalty_coupondefinition_preview",
            ),
            path(
                "<path:object_id>/generate-vouchers/",
                self.admin_site.admin_view(self.generate_vouchers_view),
                name="loyalty_coupondefinition_generate_vouchers",
            ),
        ]
        return [*extra, *super().get_urls()]

    def has_generate_vouchers_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("loyalty.add_voucherbatch")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: CouponDefinition | None = None,
    ) -> HttpResponse:
        if obj is None:
            context["preview_url"] = reverse("admin:loyalty_coupondefinition_preview_new")
        else:
            context["preview_url"] = reverse("admin:loyalty_coupondefinition_preview", args=(obj.pk,))
            if self.has_generate_vouchers_permission(request):
                context["generate_vouchers_url"] = reverse(
                    "admin:loyalty_coupondefinition_generate_vouchers", args=(obj.pk,)
                )
            if request.user.has_perm("loyalty.add_voucher") and obj.is_active:
                context["issue_voucher_url"] = reverse("admin:loyalty_voucher_issue") + f"?definition={obj.pk}"
        context["preview_channels"] = CouponDefinition.Channel.choices
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> JsonResponse:
        """Who could use the coupon as the form now stands (GET, the form's fields), and whether one customer
        could in a given purchase. Reads only. 400 with a message naming the field for values it cannot read."""
        definition = None
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            definition = self.get_object(request, unquote(object_id))
            if definition is None:
                raise Http404
            if not self.has_view_or_change_permission(request, definition):
                raise PermissionDenied
        form = CouponPreviewForm(request.GET, program=definition.program if definition else None)
        if not form.is_valid():
            fields = {name: [str(message) for message in messages_] for name, messages_ in form.errors.items()}
            message = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in fields.items())
            return JsonResponse({"message": message, "fields": fields}, status=400)
        return JsonResponse(_preview_payload(form, definition))

    def generate_vouchers_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for a number of codes and queue a VoucherBatch (voucher_batch_create); its page shows the progress."""
        if not self.has_generate_vouchers_permission(request):
            raise PermissionDenied
        definition = self.get_object(request, unquote(object_id))
        if definition is None:
            raise Http404
        room = coupon_room_left(definition)
        form = GenerateVouchersForm(request.POST if request.method == "POST" else None, room=room)
        if form.is_valid():
            try:
                # admin_view only lets signed-in staff in: request.user is a User.
                user = request.user if request.user.is_authenticated else None
                batch = voucher_batch_create(definition=definition, count=form.cleaned_data["count"], user=user)
            except ApplicationError as error:
                form.add_error("count", error.message)
            else:
                self.message_user(
                    request, f"{batch.requested_count:,} vouchers of {definition.name} are being generated."
                )
                return HttpResponseRedirect(reverse("admin:loyalty_voucherbatch_change", args=(batch.pk,)))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": definition,
            "title": "Generate vouchers",
            "form": form,
            "room": room,
            "generate_max": GENERATE_MAX,
            "batches": definition.batches.order_by("-pk")[:10],
        }
        return TemplateResponse(request, "admin/loyalty/coupondefinition/generate_vouchers.html", context)


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


# Tier benefits -------------------------------------------------------------------------------------------------------


@admin.register(TierBenefitCoupon)
class TierBenefitCouponAdmin(ServiceModelAdmin):
    """Coupons a tier gives on enrolment and on upgrade, written by tier_benefit_coupon_create/_update (the coupon
    must be of the tier's program and eligible for the tier). Also edited inline on the tier's page. Benefits cannot
    be deleted (their grants would go with them): marketing stops one by switching is_active off."""

    form = TierBenefitCouponForm
    list_display = ("tier", "definition", "on_enrolment", "on_upgrade", "validity_days", "is_active")
    list_filter = ("is_active", "tier__program")
    list_select_related = ("tier__program", "definition")
    readonly_fields = TIMESTAMPS
    fields = ("tier", "definition", "on_enrolment", "on_upgrade", "validity_days", "is_active", *TIMESTAMPS)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tier":
            kwargs["queryset"] = Tier.objects.select_related("program").order_by("program", "rank")
        elif db_field.name == "definition":
            kwargs["queryset"] = CouponDefinition.objects.select_related("program")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: TierBenefitCoupon | None = None) -> bool:
        # Deleting a benefit deletes its grants (on_delete=CASCADE), the record that each member got it once.
        return False

    def save_model(self, request: HttpRequest, obj: TierBenefitCoupon, form: forms.ModelForm, change: bool) -> None:
        benefit = _benefit_save(form, form.cleaned_data["tier"])
        obj.pk, obj.created_at, obj.updated_at = benefit.pk, benefit.created_at, benefit.updated_at
        obj._state.adding = False


@admin.register(TierBenefitGrant)
class TierBenefitGrantAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only: which member got (or was refused, and why) which tier benefit, on which occasion."""

    list_display = ("created_at", "account", "benefit", "occasion", "outcome", "refusal", "voucher")
    list_filter = ("outcome",)
    list_select_related = ("account", "benefit__tier__program", "benefit__definition", "voucher")
    raw_id_fields = ("account", "voucher")
    ordering = ("-pk",)
    sortable_by = ()
    # A row per member per tier benefit given: as many as the accounts.
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    show_full_result_count = False
    fields = ("created_at", "account", "benefit", "occasion", "outcome", "refusal", "voucher")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TierBenefitGrant]:
        return (
            super()
            .get_queryset(request)
            .select_related("account", "benefit__tier__program", "benefit__definition", "voucher")
        )


# Admin pages kept in modules of their own, imported here for their registrations.
from loyalty.admin import customers, dashboard, scan_and_go  # noqa: E402, F401, I001
