"""Shared pieces of the loyalty API (/api/v1/): the scopes its views require. snake_case, errors in the core shape
{"message", "code", "extra"}; the customer a request names is found by
loyalty.selectors.accounts.customer_get_for_loyalty (404, or 410 once erased)."""

from rest_framework.views import APIView

from crm.permissions import HasRequiredScope


class LoyaltyReadApi(APIView):
    required_scope = "loyalty:read"
    permission_classes = (HasRequiredScope,)


class LoyaltyWriteApi(APIView):
    required_scope = "loyalty:write"
    permission_classes = (HasRequiredScope,)
