"""Admin building blocks every app uses (crm, loyalty and webhooks, which may not import each other)."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from core.exceptions import ApplicationError


def admin_error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    field = error.extra.get("field")
    return f"{field}: {error.message}" if field else error.message


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves call services: their ApplicationError or ValidationError becomes an error message.

    The forms catch the usual mistakes and re-display with the error; this covers what only the service sees (a
    rule the form does not repeat, two people saving the same email at once). The exception leaves the admin's
    transaction, so the record and all its inlines roll back together and nothing is half-saved.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as error:
            self.message_user(request, admin_error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ViewOnlyMixin:
    """Ledgers, histories and delivery logs are written by services only: the admin shows them."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
