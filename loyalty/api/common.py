"""Shared pieces of the loyalty API (/api/v1/): the scopes its views require and the error responses every operation
documents. snake_case, errors in the core shape {"message", "code", "extra"}; the customer a request names is found
by loyalty.selectors.accounts.customer_get_for_loyalty (404, or 410 once erased)."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework.views import APIView

from crm.permissions import HasRequiredScope
from loyalty.api.event_serializers import ErrorOutputSerializer


class LoyaltyReadApi(APIView):
    required_scope = "loyalty:read"
    permission_classes = (HasRequiredScope,)


class LoyaltyWriteApi(APIView):
    required_scope = "loyalty:write"
    permission_classes = (HasRequiredScope,)


def error_responses(statuses: dict[int, str]) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for these statuses, each with its description and the error body."""
    return {status: OpenApiResponse(ErrorOutputSerializer, description=text) for status, text in statuses.items()}


def access_error_responses(*, scope: str) -> dict[int, OpenApiResponse]:
    """What any operation may answer before it runs: no or a wrong key, a key without the scope, a spent rate
    limit. An operation's own wording for a status (a store check's 403) goes after these and replaces it."""
    return error_responses(
        {
            401: "not_authenticated or authentication_failed: no API key, or a wrong or deactivated one.",
            403: f"permission_denied: the key lacks the {scope} scope.",
            429: "throttled: the key's rate limit is spent; Retry-After says in how many seconds to try again.",
        }
    )
