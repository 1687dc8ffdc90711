from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from crm.models import ApiClient


class HasRequiredScope(BasePermission):
    """The view names its scope in `required_scope`; the API client must carry it."""

    message = gettext_lazy("This API key does not have the scope this endpoint needs.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        required_scope = view.required_scope  # type: ignore[attr-defined]
        if client.has_scope(required_scope):
            return True
        self.message = _("This API key lacks the '%(scope)s' scope.") % {"scope": required_scope}
        return False
