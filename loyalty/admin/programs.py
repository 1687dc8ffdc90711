"""Programs, their tiers, and the coupons a tier gives on enrolment and on upgrade, with the record of who got them.

Programs and tiers are marketing's configuration and use the stock save: their only invariants (one default
program, tier codes and ranks unique per program, a positive burn value) are constraints the forms validate, and no
service edits them. A changed rule applies from the next purchase or evaluation on; nothing already in the ledger is
recomputed. Tier benefits are written by the tier_benefits services, inline on the tier's page and on their own.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import TIMESTAMPS, LargeTablePaginator, ServiceModelAdmin, ViewOnlyMixin
from loyalty.admin.common import form_add_errors
from loyalty.models import SESSION_CHANNELS, CouponDefinition, Program, Tier, TierBenefitCoupon, TierBenefitGrant
from loyalty.services.tier_benefits import (
    tier_benefit_coupon_check,
    tier_benefit_coupon_create,
    tier_benefit_coupon_update,
)


class TierInline(admin.TabularInline):
    model = Tier
    fields = ("rank", "code", "name", "threshold", "renewal_threshold", "earn_multiplier")
    ordering = ("rank",)
    extra = 0
    show_change_link = True


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
        ("Cards", {"fields": ("card_number_strip_leading_zeros", "card_number_check_digit", "pos_card_numbers")}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )
    inlines = (TierInline,)


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
                form_add_errors(self, error)
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
