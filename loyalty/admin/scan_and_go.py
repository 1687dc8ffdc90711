"""Admin pages of Scan & Go: each program's Scan & Go policy (store overrides, denial messages and spot-check risk
rules inline) and members' spot-check bias overrides. Every save goes through a service; every configuration change
bumps the policy's version, so the next scan in every web process sees it."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin import TIMESTAMPS, LargeTablePaginator, ServiceModelAdmin
from loyalty.admin.cards import card_search
from loyalty.models import (
    Card,
    ScanAndGoDenialMessage,
    ScanAndGoMember,
    ScanAndGoPolicy,
    ScanAndGoStoreOverride,
    SpotCheckRiskRule,
)
from loyalty.rules.unlock import DEFAULT_MESSAGES
from loyalty.services.scan_and_go import (
    account_spot_check_bias_set,
    scan_and_go_config_changed,
    scan_and_go_policy_save,
)


class StoreOverrideInline(admin.TabularInline):
    model = ScanAndGoStoreOverride
    fields = ("store", "unlocking_allowed", "self_unlocking_allowed", "require_terms_consent", "spot_check_bias_delta")
    raw_id_fields = ("store",)
    extra = 0


class DenialMessageInline(admin.TabularInline):
    model = ScanAndGoDenialMessage
    fields = ("reason", "language", "message")
    extra = 0


class RiskRuleInline(admin.TabularInline):
    model = SpotCheckRiskRule
    fields = ("position", "name", "condition", "parameter", "delta", "is_active")
    ordering = ("position", "id")
    extra = 0


@admin.register(ScanAndGoPolicy)
class ScanAndGoPolicyAdmin(ServiceModelAdmin):
    list_display = ("program", "unlocking_allowed", "require_terms_consent", "include_coupons", "updated_at")
    list_select_related = ("program",)
    readonly_fields = ("config_version", "default_messages", *TIMESTAMPS)
    fieldsets = (
        (None, {"fields": ("program", "unlocking_allowed", "include_coupons")}),
        (
            "Who may not unlock",
            {
                "fields": (
                    "deny_blocked_customer",
                    "deny_blocked_account",
                    "deny_guest_account",
                    "deny_blocked_card",
                    "deny_expired_card",
                    "require_terms_consent",
                    "unlocking_station_device_types",
                )
            },
        ),
        ("Messages", {"fields": ("default_messages",)}),
        ("History", {"fields": ("config_version", *TIMESTAMPS), "classes": ("collapse",)}),
    )
    inlines = (StoreOverrideInline, DenialMessageInline, RiskRuleInline)

    def save_model(self, request: HttpRequest, obj: ScanAndGoPolicy, form: forms.ModelForm, change: bool) -> None:
        scan_and_go_policy_save(policy=obj)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Overrides, messages and rules were saved (or deleted) by the inline formsets: a new version for them.
        scan_and_go_config_changed(policy=form.instance)

    @admin.display(description="default messages (used where no message of your own is set below)")
    def default_messages(self, policy: ScanAndGoPolicy | None = None) -> SafeString:
        languages = [code for code, _name in settings.LANGUAGES]
        header = format_html_join("", "<th>{}</th>", ((code,) for code in languages))
        rows = []
        for reason, text in DEFAULT_MESSAGES.items():
            cells = []
            for code in languages:
                with translation.override(code):
                    cells.append((str(text),))
            rows.append(format_html("<tr><th>{}</th>{}</tr>", reason, format_html_join("", "<td>{}</td>", cells)))
        body = format_html_join("", "{}", ((row,) for row in rows))
        return format_html("<table><tr><th></th>{}</tr>{}</table>", header, body)


@admin.register(ScanAndGoMember)
class ScanAndGoMemberAdmin(ServiceModelAdmin):
    """One field edited: the member's spot-check bias override, through account_spot_check_bias_set."""

    list_display = ("account_number", "customer", "tier", "tier_bias", "spot_check_bias_override")
    list_select_related = ("customer", "tier__program")
    # Every loyalty account (a proxy of the table): the large-table treatment of the accounts (accounts.py).
    ordering = ("-pk",)
    sortable_by = ()
    paginator = LargeTablePaginator
    show_full_result_count = False
    search_fields = ("account_number",)
    search_help_text = "Account or card number."
    fields = ("account_number", "customer", "program", "tier", "tier_bias", "spot_check_bias_override")
    readonly_fields = ("account_number", "customer", "program", "tier", "tier_bias")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ScanAndGoMember], search_term: str
    ) -> tuple[QuerySet[ScanAndGoMember], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        account_ids = card_search(Card.objects.all(), term).values("account_id")
        return queryset.filter(pk__in=account_ids), False

    @admin.display(description="tier's bias")
    def tier_bias(self, member: ScanAndGoMember) -> int | None:
        return member.tier.spot_check_bias if member.tier else None

    def save_model(self, request: HttpRequest, obj: ScanAndGoMember, form: forms.ModelForm, change: bool) -> None:
        account_spot_check_bias_set(account=obj, bias=obj.spot_check_bias_override)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ScanAndGoMember | None = None) -> bool:
        return False
