"""Purchases and the points ledger, view-only: written by the checkout, refund and points services, corrected by new
entries, never edited. Both tables grow with every checkout: they page by primary key without a full count and search
only exact, indexed values."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import TIMESTAMPS, LargeTablePaginator, ViewOnlyMixin
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase


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
