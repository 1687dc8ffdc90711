"""The loyalty back office, and the loyalty part of the customer page.

crm may not import loyalty, so crm's CustomerAdmin knows nothing of accounts; this module re-registers it with
a subclass that adds the customer's loyalty accounts and search by account number.
"""

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from crm.admin import CustomerAdmin
from crm.models import Customer
from loyalty.models import LoyaltyAccount, Program, Tier
from loyalty.selectors import customer_pks_by_loyalty_id


class TierInline(admin.TabularInline):
    model = Tier
    fields = ("rank", "code", "name", "title", "subtitle")
    ordering = ("rank",)
    extra = 0


# Programs and tiers are marketing's configuration; their only invariants (one default program, tier codes and
# ranks unique per program) are constraints the forms validate, and no service edits them yet.
@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "currency", "is_default", "is_active", "created_at")
    readonly_fields = ("created_at", "updated_at")
    inlines = (TierInline,)


class ViewOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """View-only for now: accounts change through the enrolment and points services, never by hand."""

    list_display = ("account_number", "customer", "program", "tier", "state", "points_balance", "created_at")
    list_filter = ("state", "program")
    # Tier's name shows its program's code.
    list_select_related = ("customer", "program", "tier__program")
    raw_id_fields = ("customer", "address")
    show_full_result_count = False
    # Switches the search box on; get_search_results replaces the stock case-insensitive search, which
    # PostgreSQL cannot answer from these columns' indexes.
    search_fields = ("account_number",)
    search_help_text = "Account number or customer id."

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LoyaltyAccount], search_term: str
    ) -> tuple[QuerySet[LoyaltyAccount], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # The customer is looked up first: an OR across a join cannot be answered from the two indexes.
        customer_pks = list(Customer.objects.filter(public_id=term.upper()).values_list("pk", flat=True))
        return queryset.filter(Q(account_number=term) | Q(customer_id__in=customer_pks)), False


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
