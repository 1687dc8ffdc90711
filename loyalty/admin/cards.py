"""Loyalty cards: issued, blocked, unblocked and replaced through loyalty/services/cards.py, and listed on their
account's page (CardInline). Searched by number as printed or scanned, on the unique index of normalised numbers."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.admin import TIMESTAMPS, LargeTablePaginator, ServiceModelAdmin, ViewOnlyMixin, admin_error_text
from core.exceptions import ApplicationError
from loyalty.card_numbers import card_number_lookup_keys
from loyalty.models import Card
from loyalty.services.cards import card_block, card_issue, card_replace, card_unblock


class CardAddForm(forms.ModelForm):
    number = forms.CharField(
        max_length=64, required=False, help_text="As printed on the card; empty: a new 12-digit number is drawn."
    )

    class Meta:
        model = Card
        fields = ("account", "number", "kind", "expires_at")


def card_search(queryset: QuerySet[Card], term: str) -> QuerySet[Card]:
    keys = {key for key in card_number_lookup_keys(term) if key}
    return queryset.filter(normalised_number__in=keys) if keys else queryset.none()


@admin.register(Card)
class CardAdmin(ServiceModelAdmin):
    """Cards are issued, blocked, unblocked and replaced through loyalty/services/cards.py; once issued, a card
    is changed only by the actions (its number is what shoppers carry)."""

    list_display = ("number", "account", "kind", "status", "expires_at", "issued_at")
    list_filter = ("status", "kind")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    # Every member holds at least one card: the large-table treatment of the accounts (accounts.py).
    ordering = ("-pk",)
    sortable_by = ()
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    show_full_result_count = False
    # Switches the search box on; get_search_results compares normalised numbers on the unique index.
    search_fields = ("normalised_number",)
    search_help_text = "Card number as printed or scanned (spaces, dashes and leading zeros do not matter)."
    actions = ("block_cards", "mark_cards_lost", "mark_cards_stolen", "unblock_cards", "replace_cards")
    fieldsets = (
        (None, {"fields": ("number", "normalised_number", "account", "kind", "status", "expires_at")}),
        ("History", {"fields": ("issued_at", "status_changed_at", "status_reason", "replaced_by", *TIMESTAMPS)}),
    )

    def get_form(self, request: HttpRequest, obj: Card | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = CardAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Card | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("account", "number", "kind", "expires_at")}),)
        return self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Card | None = None) -> Any:
        if obj is None:
            return ()
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Card], search_term: str
    ) -> tuple[QuerySet[Card], bool]:
        term = search_term.strip()
        return (card_search(queryset, term), False) if term else (queryset, False)

    def save_model(self, request: HttpRequest, obj: Card, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # nothing on a card's page is editable; the actions change it
        number = form.cleaned_data.get("number") or None
        issued = card_issue(account=obj.account, number=number, kind=obj.kind, expires_at=obj.expires_at)
        for field in Card._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued, field.attname))

    def has_delete_permission(self, request: HttpRequest, obj: Card | None = None) -> bool:
        return False  # a card that was given out is blocked or replaced, never forgotten

    def _each(self, request: HttpRequest, queryset: QuerySet[Card], change: Any, done: str) -> None:
        changed, errors = 0, []
        for card in queryset:
            try:
                change(card)
            except (ApplicationError, ValidationError) as error:
                errors.append(f"{card.number}: {admin_error_text(error)}")
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{changed} card(s) {done}.", messages.SUCCESS)
        for message in errors:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Block selected cards", permissions=("change",))
    def block_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._each(request, queryset, lambda card: card_block(card=card, reason=f"by {request.user}"), "blocked")

    @admin.action(description="Mark selected cards lost", permissions=("change",))
    def mark_cards_lost(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._each(request, queryset, lambda card: card_block(card=card, status=Card.Status.LOST), "marked lost")

    @admin.action(description="Mark selected cards stolen", permissions=("change",))
    def mark_cards_stolen(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._each(request, queryset, lambda card: card_block(card=card, status=Card.Status.STOLEN), "marked stolen")

    @admin.action(description="Unblock selected cards", permissions=("change",))
    def unblock_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._each(request, queryset, lambda card: card_unblock(card=card), "unblocked")

    @admin.action(description="Replace selected cards (new numbers drawn)", permissions=("change",))
    def replace_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._each(request, queryset, lambda card: card_replace(card=card, reason=f"by {request.user}"), "replaced")


class CardInline(ViewOnlyMixin, admin.TabularInline):
    """One query for all the account's cards. The number links to the card's page (block, replace) by URL: the
    stock show_change_link would cost a content-type query as well."""

    model = Card
    fk_name = "account"
    fields = ("card_number", "kind", "status", "expires_at", "issued_at")
    readonly_fields = fields
    ordering = ("-issued_at", "-id")
    extra = 0

    @admin.display(description="number")
    def card_number(self, card: Card) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("admin:loyalty_card_change", args=(card.pk,)), card.number)
