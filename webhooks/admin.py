"""Webhook endpoints, deliveries and events in the back office. Writes go through webhooks.services; events and
attempts are history and view-only, deliveries can only be replayed."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.admin import LargeTablePaginator, ServiceModelAdmin, ViewOnlyMixin
from core.exceptions import ApplicationError
from webhooks.catalogue import ALL_EVENTS, CATALOGUE, PING
from webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint, WebhookEvent
from webhooks.services.deliveries import webhook_delivery_replay
from webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

EVENT_TYPE_CHOICES = [(ALL_EVENTS, "* (every event type, including ones added later)")] + [
    (name, f"{name}: {event_type.description}") for name, event_type in CATALOGUE.items()
]


def _pretty_json(body: str) -> str:
    return format_html("<pre>{}</pre>", json.dumps(json.loads(body), indent=2, ensure_ascii=False))


class WebhookEndpointAdminForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(choices=EVENT_TYPE_CHOICES, widget=forms.CheckboxSelectMultiple)
    # Left out (an older form, a script), it is the standard envelope.
    payload_format = forms.ChoiceField(
        choices=WebhookEndpoint.PayloadFormat.choices,
        required=False,
        initial=WebhookEndpoint.PayloadFormat.STANDARD,
        help_text=WebhookEndpoint._meta.get_field("payload_format").help_text,
    )

    def clean_payload_format(self) -> str:
        return self.cleaned_data["payload_format"] or WebhookEndpoint.PayloadFormat.STANDARD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.instance.event_types:
            self.initial["event_types"] = [ALL_EVENTS]


class EventTypeFilter(admin.SimpleListFilter):
    """The catalogue's types, without asking the database for the distinct values of a large table."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(name, name) for name in (*CATALOGUE, PING)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(event__type=self.value()) if self.value() else queryset


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceModelAdmin):
    form = WebhookEndpointAdminForm
    list_display = (
        "url",
        "description",
        "event_type_list",
        "payload_format",
        "is_active",
        "failing_since",
        "disabled_at",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    actions = ("send_test_ping", "rotate_secret", "re_enable", "disable")
    # The secrets are never shown here: they appear once, as a message, when created or rotated.
    add_fields = ("url", "description", "event_types", "payload_format")
    fields = (
        "url",
        "description",
        "event_types",
        "payload_format",
        "is_active",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "reenabled_at",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "is_active",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "reenabled_at",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    )

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> tuple[str, ...]:
        return self.add_fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> bool:
        # Its deliveries are the history of what was sent: disable an endpoint instead.
        return False

    @admin.display(description="event types")
    def event_type_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) or ALL_EVENTS

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                payload_format=data["payload_format"],
            )
            return
        endpoint, secret = webhook_endpoint_create(
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            payload_format=data["payload_format"],
        )
        # The admin logs the addition and redirects using `obj`: make it the row the service created.
        obj.pk = endpoint.pk
        obj.event_types = endpoint.event_types
        self._show_secret_once(request, endpoint, secret)

    def _show_secret_once(self, request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
        message = _(
            "The signing secret of %(url)s is %(secret)s. Copy it now: it cannot be shown again. "
            "Verify deliveries with it as described in docs/webhooks.md."
        )
        self.message_user(request, message % {"url": endpoint.url, "secret": secret}, messages.SUCCESS)

    @admin.action(description="Send test ping", permissions=["change"])
    def send_test_ping(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            try:
                delivery = webhook_endpoint_ping(endpoint=endpoint)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            message = _("Test ping %(event)s queued for %(url)s; its result shows under Webhook deliveries.")
            self.message_user(request, message % {"event": delivery.event.public_id, "url": endpoint.url})

    @admin.action(description="Rotate secret (the old one keeps signing for an overlap)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            secret = webhook_endpoint_rotate_secret(endpoint=endpoint)
            self._show_secret_once(request, endpoint, secret)
            message = _("Until %(until)s deliveries to %(url)s carry a signature with the old secret too.")
            until = endpoint.previous_secret_expires_at  # set by the rotation
            if until is not None:
                self.message_user(
                    request, message % {"until": until.isoformat(timespec="minutes"), "url": endpoint.url}
                )

    @admin.action(description="Re-enable", permissions=["change"])
    def re_enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        endpoints = list(queryset.filter(is_active=False))
        for endpoint in endpoints:
            webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, _("%(count)s endpoints re-enabled.") % {"count": len(endpoints)})

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        reason = _("Disabled by %(user)s.") % {"user": request.user.get_username()}
        count = sum(webhook_endpoint_disable(endpoint=endpoint, reason=reason) for endpoint in queryset)
        self.message_user(request, _("%(count)s endpoints disabled.") % {"count": count})


class WebhookDeliveryAttemptInline(ViewOnlyMixin, admin.TabularInline):
    model = WebhookDeliveryAttempt
    fields = ("number", "attempted_at", "status_code", "error", "duration_ms", "response_body", "task_id")
    readonly_fields = fields
    ordering = ("number",)
    extra = 0


def _events_matching(term: str) -> QuerySet[WebhookEvent]:
    """Events whose id or entity id is exactly `term`, from the two indexes (a BitmapOr on PostgreSQL). The stock
    admin search (icontains on both) would read every event, and events grow with every change to every customer."""
    return WebhookEvent.objects.filter(Q(public_id=term) | Q(entity_id=term))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "event_id",
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "succeeded_at",
        "created_at",
    )
    list_filter = ("status", "endpoint", EventTypeFilter)
    list_select_related = ("endpoint", "event")
    # Switches the search box on; get_search_results looks the event up by exact, indexed values.
    search_fields = ("event__public_id",)
    search_help_text = "Event id (webhook-id) or entity id, exactly."
    # Every change to every customer makes deliveries: page without counting the whole table.
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ("replay",)
    fields = (
        "endpoint",
        "event",
        "status",
        "attempt_count",
        "attempts_in_cycle",
        "next_attempt_at",
        "claimed_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "last_response_body",
        "duration_ms",
        "succeeded_at",
        "created_at",
        "updated_at",
        "payload",
    )
    readonly_fields = fields
    inlines = (WebhookDeliveryAttemptInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        # The list needs the event's id and type, not its body; the change page loads the body when it shows it.
        return super().get_queryset(request).defer("event__body", "last_response_body")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery], search_term: str
    ) -> tuple[QuerySet[WebhookDelivery], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(event__in=_events_matching(term)), False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.replay_webhookdelivery")

    @admin.display(description="event", ordering="event__public_id")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.public_id

    @admin.display(description="type", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="payload (as sent)")
    def payload(self, delivery: WebhookDelivery) -> str:
        return _pretty_json(delivery.event.body)

    @admin.action(description="Replay (send again, same webhook-id)", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed = 0
        for delivery in queryset:
            try:
                webhook_delivery_replay(delivery=delivery)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                replayed += 1
        if replayed:
            self.message_user(request, _("%(count)s deliveries queued for replay.") % {"count": replayed})


@admin.register(WebhookEvent)
class WebhookEventAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("public_id", "type", "entity_id", "created_at", "fanned_out_at")
    list_filter = ("type",)
    # Switches the search box on; get_search_results compares exact values on the unique and entity indexes.
    search_fields = ("public_id",)
    search_help_text = "Event id (webhook-id) or entity id (a customer, voucher or purchase id), exactly."
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ("public_id", "type", "entity_id", "created_at", "fanned_out_at", "payload")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        return super().get_queryset(request).defer("body")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookEvent], search_term: str
    ) -> tuple[QuerySet[WebhookEvent], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(pk__in=_events_matching(term).values("pk")), False

    @admin.display(description="payload (as sent)")
    def payload(self, event: WebhookEvent) -> str:
        return _pretty_json(event.body)
