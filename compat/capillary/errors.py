"""Errors as Capillary's v2 APIs send them: `{"errors": [{"status": false, "code": <int>, "message": "..."}],
"warnings": []}`. `code` is Capillary's published code where one means the same (8015 customer not found, 8012 invalid
source, 8013 invalid identifier), otherwise the HTTP status (401, 403, 409, 410, 429, 503). The statuses are ours:
Capillary does not publish which status goes with which code. An erased customer answers as our loyalty API does
(410, "Customer is deleted after PII delete request", Capillary's published message)."""

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response

from compat.capillary.authentication import BASIC_CHALLENGE
from core.api.exception_handler import normalise_exception
from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode

CUSTOMER_NOT_FOUND = 8015
# Capillary's published wording for 8015.
CUSTOMER_NOT_FOUND_MESSAGE = "Customer not found for the given identifiers"
INVALID_SOURCE = 8012
INVALID_IDENTIFIER = 8013
# Query parameters whose errors carry a code of their own; any other bad parameter is a 400 with code 400.
FIELD_CODES = {"source": INVALID_SOURCE, "identifierName": INVALID_IDENTIFIER, "identifierValue": INVALID_IDENTIFIER}
APPLICATION_CODES = {
    CrmErrorCode.CUSTOMER_NOT_FOUND: CUSTOMER_NOT_FOUND,
    CrmErrorCode.INVALID_FIELD: INVALID_IDENTIFIER,
}


def capillary_error_item(code: int, message: str) -> dict[str, Any]:
    return {"status": False, "code": code, "message": message}


def _code(exc: Exception, status: int, fields: dict[str, Any]) -> int:
    if isinstance(exc, ApplicationError):
        return APPLICATION_CODES.get(exc.code, status)  # type: ignore[call-overload]
    if fields:
        return FIELD_CODES.get(next(iter(fields)), status)
    return status


def capillary_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = normalise_exception(exc)
    if error is None:
        return None
    headers = dict(error.headers)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    code = _code(exc, error.status, error.fields)
    message = CUSTOMER_NOT_FOUND_MESSAGE if code == CUSTOMER_NOT_FOUND else error.message
    body = {"errors": [capillary_error_item(code, message)], "warnings": []}
    return Response(body, status=error.status, headers=headers)
