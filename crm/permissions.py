from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from crm.models import ApiClient


def request_api_client(request: Request) -> ApiClient | None:
    """The API client that ApiKeyAuthentication put in request.user, or None for anyone else. request.user is read
    as a plain object: the stubs type it as the auth user model, but DRF stores whatever the authenticator returns."""
    user: object = request.user
    return user if isinstance(user, ApiClient) else None


def api_client_of(request: Request) -> ApiClient:
    """The API client of a request to a view behind HasRequiredScope, which lets no one else through."""
    client = request_api_client(request)
    if client is None:
        raise NotAuthenticated
    return client


class HasRequiredScope(BasePermission):
    """The view names its scope in `required_scope`; the API client must carry it."""

    message: str | Promise = gettext_lazy("This API key does not have the scope this endpoint needs.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        client = request_api_client(request)
        if client is None:
            return False
        required_scope = view.required_scope  # type: ignore[attr-defined]  # each API view class sets its own
        if client.has_scope(required_scope):
            return True
        self.message = _("This API key lacks the '%(scope)s' scope.") % {"scope": required_scope}
        return False
