"""Errors as LoyaltyLion's headless API sends them (reference/antavo_loyaltylion.md B3):

- 400, 401, 403: `{"error": {"message": "...", "details": {"<field>": "..."}}}` (details only for bad input);
- 404: `{"error": {"code": "not_found", "message": "..."}}`;
- 422: `{"error": {"code": "<code>", "message": "..."}}`, e.g. `email_already_in_use`;
- 429: `{"error": {"code": "rate_limited"}}` with Retry-After.

Statuses LoyaltyLion does not list (409 several customers carry the merchant_id, 410 an erased customer, 503 no
default program) keep our status and code, lower-case, in the 404/422 shape."""

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response

from compat.loyaltylion.authentication import BEARER_CHALLENGE
from core.api.exception_handler import normalise_exception

MESSAGE_ONLY_STATUSES = (400, 401, 403)


def loyaltylion_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = normalise_exception(exc)
    if error is None:
        return None
    headers = dict(error.headers)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    body: dict[str, Any]
    if error.status == 429:
        body = {"code": "rate_limited"}
    elif error.status in MESSAGE_ONLY_STATUSES:
        body = {"message": error.message}
        details = {field: messages[0] for field, messages in error.fields.items()}
        if not details and "field" in error.extra:
            details = {error.extra["field"]: error.message}
        if details:
            body["details"] = details
    elif error.status == 404:
        body = {"code": "not_found", "message": error.message}
    else:
        body = {"code": error.code.lower(), "message": error.message}
    return Response({"error": body}, status=error.status, headers=headers)
