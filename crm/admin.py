"""The back office for the customer record: one more client of crm.services, like the APIs.

Apps built on crm (loyalty) extend the customer page through CustomerPageExtension, the page's one extension point,
because crm must not import them.

The customer table reaches a million rows: its changelists page with LargeTablePaginator (no full COUNT), search
only on indexed columns (equality or prefix), and sort only on indexed columns.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import URLPattern, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.admin import TIMESTAMPS, LargeTablePaginator, ServiceModelAdmin, ViewOnlyMixin
from crm.models import CONSENT_NAMES, Address, ApiClient, Associate, ConsentChange, Consents, Customer, Store
from crm.normalisation import ADDRESS_CONTENT_FIELDS, normalise_email, normalise_phone, search_key
from crm.services.addresses import address_save
from crm.services.api_clients import (
    api_client_create,
    api_client_deactivate,
    api_client_escher_secret_clear,
    api_client_escher_secret_rotate,
    api_client_reactivate,
    api_client_rotate_key,
    api_client_set_scopes,
    api_client_stores_set,
)
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from crm.services.customers import customer_save_from_admin

# Hidden from the customer changelist of users who may not change customers.
CONTACT_COLUMNS = ("email", "phone_mobile", "phone_home")
# Hidden from their customer page too, with the address list.
CONTACT_FIELDS = (*CONTACT_COLUMNS, "allow_sms_notifications", "postal_code", "profile_address")
# Columns they may not filter the customer changelist on from the URL either.
CONTACT_LOOKUP_FIELDS = (*CONTACT_FIELDS, "postal_code_search")
CONSENT_HISTORY_INLINE_SIZE = 20


@dataclass(frozen=True)
class CustomerPagePanel:
    """A section an extension adds to the customer page: a template, rendered with exactly this context."""

    template_name: str
    context: dict[str, Any]


@dataclass(frozen=True)
class CustomerPageTool:
    """A link an extension adds to the customer page's object tools (top right, beside "History")."""

    label: str
    url: str
    css_class: str


class CustomerPageExtension:
    """What an app built on crm adds to the customer admin, which cannot import it.

    The customer page's one extension point: nothing subclasses CustomerAdmin or registers Customer again. Subclass
    this, override the hooks you need (the defaults add nothing) and pass an instance to
    customer_page_extension_register() from your app's admin module. CustomerAdmin calls every hook of every
    extension, in registration order:

    - search_help and search_condition: another way for the search box to find a customer, for every user (it
      must not reveal contact details), ORed with crm's own and named in the box's help. Like crm's, the condition
      is an equality or prefix match on indexed columns, or primary keys looked up beforehand, so that at a million
      customers the search stays an index lookup.
    - summary: "who is this" at the top of the change page, above the profile form (loyalty: name, tier, points,
      vouchers, purchases and the actions a store manager needs); None shows nothing. Counts like a panel.
    - panel: a section of the change page, after the profile; None shows nothing (to a user who may not see it).
      Its queries count towards the page's query budget: a fixed number, whatever the customer's history.
    - tools: links among the change page's object tools.
    - get_urls: more pages under /admin/crm/customer/, their views wrapped in customer_admin.admin_site.admin_view.
    """

    # What search_condition finds, as the search box's help names it ("loyalty account number"); empty for none.
    search_help: str = ""

    def search_condition(self, term: str) -> Q | None:
        return None

    def summary(self, request: HttpRequest, customer: Customer) -> CustomerPagePanel | None:
        return None

    def panel(self, request: HttpRequest, customer: Customer) -> CustomerPagePanel | None:
        return None

    def tools(self, request: HttpRequest, customer: Customer) -> list[CustomerPageTool]:
        return []

    def get_urls(self, customer_admin: "CustomerAdmin") -> list[URLPattern]:
        return []


_customer_page_extensions: list[CustomerPageExtension] = []


def customer_page_extension_register(extension: CustomerPageExtension) -> None:
    """Add an extension to the customer page, after those registered before it; the same instance only once."""
    if extension not in _customer_page_extensions:
        _customer_page_extensions.append(extension)


def customer_page_panels_render(request: HttpRequest, customer: Customer) -> list[SafeString]:
    """The extensions' panels that have something to show this user, rendered in registration order."""
    panels = (extension.panel(request, customer) for extension in _customer_page_extensions)
    return [render_to_string(panel.template_name, panel.context) for panel in panels if panel is not None]


def customer_page_summaries_render(request: HttpRequest, customer: Customer) -> list[SafeString]:
    """The extensions' summaries for the top of the page, rendered in registration order."""
    summaries = (extension.summary(request, customer) for extension in _customer_page_extensions)
    return [render_to_string(summary.template_name, summary.context) for summary in summaries if summary is not None]


# Stores and associates are reference data whose only invariants are unique and check constraints, which the
# ModelForm validates; no service edits them yet, so these use the stock save.
@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country_code", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = TIMESTAMPS

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> tuple[str, ...]:
        # Tills name a store by its code: a changed code would make the next POS sign-up create a second store.
        return TIMESTAMPS if obj is None else ("code", *TIMESTAMPS)


@admin.register(Associate)
class AssociateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "store", "created_at")
    list_select_related = ("store",)
    search_fields = ("code", "name")
    autocomplete_fields = ("store",)
    readonly_fields = TIMESTAMPS


class ApiClientAdminForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiClient.Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


@admin.register(ApiClient)
class ApiClientAdmin(ServiceModelAdmin):
    form = ApiClientAdminForm
    list_display = ("name", "key_prefix", "scope_list", "is_active", "last_used_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    actions = ("rotate_key", "deactivate", "reactivate", "generate_escher_secret", "clear_escher_secret")
    # key_hash is never shown. is_active changes through the Deactivate and Reactivate actions.
    add_fields = ("name", "scopes", "allowed_stores")
    fields = ("name", "key_prefix", "scopes", "is_active", "allowed_stores", "last_used_at", *TIMESTAMPS)
    readonly_fields = ("name", "key_prefix", "is_active", "last_used_at", *TIMESTAMPS)
    # Searched by code or name, a few at a time: a chain has too many stores for a list of them all.
    autocomplete_fields = ("allowed_stores",)

    def get_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> tuple[str, ...]:
        return self.add_fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    @admin.display(description="scopes")
    def scope_list(self, client: ApiClient) -> str:
        return ", ".join(client.scopes)

    def save_model(self, request: HttpRequest, obj: ApiClient, form: forms.ModelForm, change: bool) -> None:
        store_codes = [store.code for store in form.cleaned_data["allowed_stores"]]
        if change:
            api_client_set_scopes(client=obj, scopes=form.cleaned_data["scopes"])
            api_client_stores_set(client=obj, store_codes=store_codes)
            return
        client, key = api_client_create(
            name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], store_codes=store_codes
        )
        # The admin logs the addition and redirects using `obj`: make it the row the service created.
        obj.pk = client.pk
        obj.key_prefix = client.key_prefix
        obj.scopes = client.scopes
        self._show_key_once(request, client, key)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """Inlines only (there are none yet): save_model's services set the allowed stores, which the form's own
        many-to-many save would set again, past them."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # django-stubs type the message as Django's JSON list; a LogEntry also takes plain text, shown as it is, as the
    # Deactivate and Reactivate actions write it.
    def construct_change_message(  # type: ignore[override]
        self, request: HttpRequest, form: forms.Form, formsets: Any, add: bool = False
    ) -> list[dict[str, dict[str, list[str]]]] | str:
        """A change of scopes or stores is recorded with what they became, not only that they changed: the history
        is the record of who widened or narrowed a key's reach, and when."""
        changed = set(form.changed_data) & {"scopes", "allowed_stores"}
        if add or not changed:
            return super().construct_change_message(request, form, formsets, add)
        parts = []
        if "scopes" in changed:
            parts.append(f"Scopes: {', '.join(sorted(form.cleaned_data['scopes'])) or 'none'}.")
        if "allowed_stores" in changed:
            codes = sorted(store.code for store in form.cleaned_data["allowed_stores"])
            parts.append(f"Allowed stores: {', '.join(codes)}." if codes else "Allowed stores: any.")
        return " ".join(parts)

    @admin.action(description="Rotate key", permissions=["change"])
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            self._show_key_once(request, client, api_client_rotate_key(client=client))

    @admin.action(
        description="Generate Escher signing secret (Antavo adapter: it must then sign)", permissions=["change"]
    )
    def generate_escher_secret(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset.order_by("name"):
            secret = api_client_escher_secret_rotate(client=client)
            self.log_change(request, client, "Escher signing secret generated.")
            message = _("The Escher signing secret of “%(name)s” is %(secret)s. Copy it now: it cannot be shown again.")
            self.message_user(request, message % {"name": client.name, "secret": secret}, messages.SUCCESS)

    @admin.action(description="Remove Escher signing secret (Antavo adapter: unsigned)", permissions=["change"])
    def clear_escher_secret(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        changed, unchanged = self._set_active_each(
            request, queryset, api_client_escher_secret_clear, "Escher signing secret removed."
        )
        if changed:
            self.message_user(request, _("Signing secret removed: %(names)s.") % {"names": changed}, messages.SUCCESS)
        if unchanged:
            self.message_user(request, _("Had no signing secret: %(names)s.") % {"names": unchanged}, messages.WARNING)

    @admin.action(description="Deactivate (its key is refused until reactivated)", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        changed, unchanged = self._set_active_each(request, queryset, api_client_deactivate, "Deactivated.")
        if changed:
            self.message_user(request, _("Deactivated: %(names)s.") % {"names": changed}, messages.SUCCESS)
        if unchanged:
            self.message_user(request, _("Already deactivated: %(names)s.") % {"names": unchanged}, messages.WARNING)

    @admin.action(description="Reactivate (its key works again)", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        changed, unchanged = self._set_active_each(request, queryset, api_client_reactivate, "Reactivated.")
        if changed:
            self.message_user(request, _("Reactivated: %(names)s.") % {"names": changed}, messages.SUCCESS)
        if unchanged:
            self.message_user(request, _("Already active: %(names)s.") % {"names": unchanged}, messages.WARNING)

    def _set_active_each(
        self, request: HttpRequest, queryset: QuerySet[ApiClient], service: Callable[..., bool], history: str
    ) -> tuple[str, str]:
        """Run the service on each client, recording each change in the client's admin history (who locked a key
        out, and when). Returns the names it changed and the names that already were so."""
        changed, unchanged = [], []
        for client in queryset.order_by("name"):
            if service(client=client):
                self.log_change(request, client, history)
                changed.append(client.name)
            else:
                unchanged.append(client.name)
        return ", ".join(changed), ", ".join(unchanged)

    def _show_key_once(self, request: HttpRequest, client: ApiClient, key: str) -> None:
        message = _("The API key of “%(name)s” is %(key)s. Copy it now: it is not stored and cannot be shown again.")
        self.message_user(request, message % {"name": client.name, "key": key}, messages.SUCCESS)


class AddressInline(admin.TabularInline):
    model = Address
    fields = ("position", *ADDRESS_CONTENT_FIELDS, "public_id")
    readonly_fields = ("public_id",)
    ordering = ("position", "id")
    extra = 0
    # There is no address_delete service yet, and deleting would silently clear profile and loyalty addresses.
    can_delete = False


class ConsentsInline(admin.StackedInline):
    model = Consents
    fields = (*CONSENT_NAMES, "updated_at")
    readonly_fields = ("updated_at",)
    can_delete = False
    extra = 1
    max_num = 1


class LatestConsentChangesFormSet(BaseInlineFormSet):
    """Only the latest changes: the history grows with every sign-up and opt-out. Cached, because the formset asks
    for its queryset several times and a sliced queryset would run again each time."""

    def get_queryset(self) -> QuerySet[ConsentChange]:
        if not hasattr(self, "_latest_changes"):
            self._latest_changes = super().get_queryset()[:CONSENT_HISTORY_INLINE_SIZE]
        return self._latest_changes


class ConsentChangeInline(admin.TabularInline):
    """The consent history is the evidence of what the customer agreed to, so it is view-only. The page shows the
    latest changes; the consent changes list, filtered on the customer, has them all."""

    model = ConsentChange
    formset = LatestConsentChangesFormSet
    verbose_name_plural = f"consent history (latest {CONSENT_HISTORY_INLINE_SIZE})"
    fields = (
        "consent",
        "previous_value",
        "new_value",
        "changed_at",
        "channel",
        "store",
        "associate",
        "api_client",
        "user",
    )
    readonly_fields = fields
    ordering = ("-changed_at", "-id")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsentChange]:
        return super().get_queryset(request).select_related("store", "associate__store", "api_client", "user")

    def has_add_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False


class CustomerAdminForm(forms.ModelForm):
    """Normalises email and phones as the service will, so that the unique-email constraint, which the form
    checks while validating, compares stored forms, and the page re-displays with the error."""

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_phone_mobile(self) -> str:
        return self._normalised_phone("phone_mobile")

    def clean_phone_home(self) -> str:
        return self._normalised_phone("phone_home")

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        # Erasure must remove the personal data too, which only an erasure service can do.
        if status == Customer.Status.ERASED and self.instance.status != Customer.Status.ERASED:
            raise ValidationError(_("A customer cannot be marked erased by hand."), code="invalid")
        return status

    def _normalised_phone(self, name: str) -> str:
        phone = normalise_phone(self.cleaned_data[name], default_region=settings.PHONENUMBER_DEFAULT_REGION)
        if phone is None:
            raise ValidationError(_("Not a phone number."), code="invalid")
        return phone


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    form = CustomerAdminForm
    list_display = (
        "public_id",
        "first_name",
        "last_name",
        "email",
        "phone_mobile",
        "status",
        "created_store",
        "created_at",
    )
    list_filter = ("status", "created_store")
    list_select_related = ("created_store",)
    # The table reaches a million rows: page by the primary key (newest first), offer sorting only on indexed
    # columns, count with LargeTablePaginator, skip the second, unfiltered COUNT(*), and never count per filter
    # choice (facets).
    ordering = ("-pk",)
    sortable_by = ("public_id", "created_at")
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Switches the search box on; get_search_results replaces the stock LIKE '%term%' search entirely, and
    # get_changelist_instance writes the help under the box.
    search_fields = ("public_id",)
    readonly_fields = ("public_id", "profile_address", "created_store", "created_associate", *TIMESTAMPS)
    fieldsets = (
        (None, {"fields": ("public_id", "status")}),
        ("Name", {"fields": ("salutation", "first_name", "last_name")}),
        ("Contact", {"fields": ("email", "phone_mobile", "phone_home", "allow_sms_notifications")}),
        (
            "Profile",
            {
                "fields": (
                    "birthday",
                    "gender",
                    "preferred_language",
                    "customer_group",
                    "alternate_customer_id",
                    "tax_id",
                    "country",
                    "postal_code",
                    "profile_address",
                    "custom_attributes",
                )
            },
        ),
        ("Attribution", {"fields": ("created_store", "created_associate", *TIMESTAMPS)}),
    )
    inlines = (AddressInline, ConsentsInline, ConsentChangeInline)

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        # Read-only users (marketing) browse and search customers without their contact details.
        if self._may_see_contact_details(request):
            return self.list_display
        return tuple(name for name in self.list_display if name not in CONTACT_COLUMNS)

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        if self._may_see_contact_details(request):
            return self.fieldsets
        # Marketing's read-only page: the same sections, without contact details.
        visible = []
        for title, options in self.fieldsets:
            fields = tuple(name for name in options["fields"] if name not in CONTACT_FIELDS)
            if fields:
                visible.append((title, {**options, "fields": fields}))
        return tuple(visible)

    def get_inlines(self, request: HttpRequest, obj: Customer | None) -> Any:
        inlines = super().get_inlines(request, obj)
        if self._may_see_contact_details(request):
            return inlines
        return [inline for inline in inlines if inline is not AddressInline]

    def _may_see_contact_details(self, request: HttpRequest) -> bool:
        return request.user.has_perm("crm.change_customer")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Customer | None:
        # The change page shows the profile address, the creating store and associate, and (the glance on top) the
        # consents: joined, not one query each. (The changelist joins only what it lists, through
        # list_select_related.)
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        queryset = self.get_queryset(request).select_related(
            "profile_address", "created_store", "created_associate__store", "consents"
        )
        try:
            return queryset.get(pk=object_id)
        except (Customer.DoesNotExist, ValidationError, ValueError):
            return None

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Customer | None = None,
    ) -> HttpResponse:
        # Here rather than in change_view: this is where the customer is already loaded.
        if obj is not None and obj.pk is not None:
            context["customer_summaries"] = customer_page_summaries_render(request, obj)
            context["customer_panels"] = customer_page_panels_render(request, obj)
            context["customer_tools"] = [
                tool for extension in _customer_page_extensions for tool in extension.tools(request, obj)
            ]
            if request.user.has_perm("crm.view_consentchange"):
                context["consent_history_url"] = reverse("admin:crm_consentchange_changelist") + f"?customer={obj.pk}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        # Customers are erased (personal data removed, history kept), never deleted: a delete would cascade
        # away the consent history.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        """Also answers the raw-id lookup popups and autocompletes that pick a customer, with the same rule: only
        users who may see contact details find customers by them."""
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = self.search_condition(term)
        if self._may_see_contact_details(request):
            condition |= self.contact_search_condition(term)
        return queryset.filter(condition), False

    def search_condition(self, term: str) -> Q:
        """The ways one search box names a customer without their contact details (customer id, name prefixes,
        and what the extensions add), for every user. Each branch, here and in contact_search_condition, is an
        equality or a prefix match on an indexed column, so that PostgreSQL can answer the OR from indexes without
        scanning the table."""
        folded = search_key(term)
        condition = (
            Q(public_id=term.upper()) | Q(first_name_search__startswith=folded) | Q(last_name_search__startswith=folded)
        )
        first_name, _space, last_name = folded.partition(" ")
        if last_name:
            condition |= Q(first_name_search__startswith=first_name, last_name_search__startswith=last_name)
        for extension in _customer_page_extensions:
            extension_condition = extension.search_condition(term)
            if extension_condition is not None:
                condition |= extension_condition
        return condition

    def contact_search_condition(self, term: str) -> Q:
        """Email and phones: searched only for users who may see contact details."""
        condition = Q(email=normalise_email(term))
        phone = normalise_phone(term, default_region=settings.PHONENUMBER_DEFAULT_REGION)
        if phone:
            condition |= Q(phone_mobile=phone) | Q(phone_home=phone)
        return condition

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        changelist.search_help_text = self.search_help(request)
        return changelist

    def search_help(self, request: HttpRequest) -> str:
        """What this user's search finds: email and phones only for users who may see contact details."""
        names = ["First or last name (or “first last”)"]
        if self._may_see_contact_details(request):
            names += ["email", "phone"]
        names.append("customer id")
        names += [extension.search_help for extension in _customer_page_extensions if extension.search_help]
        return f"{', '.join(names[:-1])} or {names[-1]}."

    def get_urls(self) -> list[URLPattern]:
        extension_urls = [url for extension in _customer_page_extensions for url in extension.get_urls(self)]
        return [*extension_urls, *super().get_urls()]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # The stock admin lets any viewer filter the changelist on a local column from the URL: ?email=… or
        # ?phone_mobile__startswith=… would look customers up by contact details as surely as the search box.
        # Refused (400) to those who may not see them; lookups across relations are refused by the stock rule.
        column = lookup.split(LOOKUP_SEP, 1)[0]
        if column in CONTACT_LOOKUP_FIELDS and not self._may_see_contact_details(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def save_model(self, request: HttpRequest, obj: Customer, form: forms.ModelForm, change: bool) -> None:
        customer_save_from_admin(customer=obj)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        # commit=False writes nothing; it collects what changed, for the admin's history message.
        instances = formset.save(commit=False)
        if formset.model is Address:
            for address in instances:
                address_save(address=address)
        elif formset.model is Consents:
            context = ChangeContext(channel=ConsentChange.Channel.ADMIN, user=request.user)
            for consents_form in formset.forms:
                changes = {
                    name: consents_form.cleaned_data[name]
                    for name in consents_form.changed_data
                    if name in CONSENT_NAMES
                }
                # Called even without changes: like customer_create, it leaves every customer a Consents row.
                consents_set(customer=formset.instance, changes=changes, context=context)
        # The consent history is view-only: nothing to save.


@admin.register(ConsentChange)
class ConsentChangeAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The whole consent history, for audits: one row per change of one consent. The customer page shows only the
    latest changes and links here, filtered on the customer."""

    list_display = ("changed_at", "customer", "consent", "previous_value", "new_value", "channel", "store", "user")
    list_filter = ("consent", "channel")
    list_select_related = ("customer", "store", "user")
    raw_id_fields = ("customer",)
    ordering = ("-pk",)
    sortable_by = ()
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Switches the search box on; get_search_results replaces the stock search with an indexed lookup.
    search_fields = ("customer__public_id",)
    search_help_text = "Customer id (exact)."
    fields = (
        "customer",
        "consent",
        "previous_value",
        "new_value",
        "changed_at",
        "channel",
        "store",
        "associate",
        "api_client",
        "user",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsentChange]:
        return (
            super().get_queryset(request).select_related("customer", "store", "associate__store", "api_client", "user")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsentChange], search_term: str
    ) -> tuple[QuerySet[ConsentChange], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # The customer is looked up first, so that the history is filtered on its indexed customer column.
        customer_pks = list(Customer.objects.filter(public_id=term.upper()).values_list("pk", flat=True))
        return queryset.filter(customer_id__in=customer_pks), False
