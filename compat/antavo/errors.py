"""Antavo's error envelope: `{"error": {"type": "<ExceptionClass>", "code": <number>, "message": "..."}}`.

The same normalised errors as every API (core.api.exception_handler.normalise_exception), rendered with Antavo's
exception types and, where Antavo publishes one for the same refusal, its numeric code and HTTP status (reference
A3: 160212 Customer not found, 160216 Customer is not active, 120241 not enough points, 113401 missing parameter).
Refusals Antavo publishes no number for get code 0, the number Antavo itself uses for errors without one. `reason`
carries our error code (ERR_TX_ALREADY_EXISTS, STORE_NOT_ALLOWED, ...), so a client can tell them apart.
"""

from typing import Any

from rest_framework.response import Response

from core.api.exception_handler import NormalisedError, normalise_exception

EXCEPTION_TYPES = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    403: "ForbiddenException",
    404: "NotFoundException",
    405: "MethodNotAllowedException",
    406: "NotAcceptableException",
    409: "ConflictException",
    413: "PayloadTooLargeException",
    415: "UnsupportedMediaTypeException",
    422: "UnprocessableEntityException",
    429: "TooManyRequestsException",
    503: "ServiceUnavailableException",
}

# Our error code -> Antavo's HTTP status, numeric code and message for the same refusal.
ANTAVO_ERRORS: dict[str, tuple[int, int, str]] = {
    "CUSTOMER_NOT_FOUND": (404, 160212, "Customer not found"),
    # Antavo forgets an erased customer: it is not found, not "gone".
    "CUSTOMER_ERASED": (404, 160212, "Customer not found"),
    "NOT_ENROLLED": (400, 160216, "Customer is not active"),
    "ACCOUNT_BLOCKED": (400, 160216, "Customer is not active"),
    "INSUFFICIENT_POINTS": (400, 120241, "Customer does not have enough points"),
}
MISSING_PARAMETER_CODE = 113401
REQUIRED_MESSAGES = frozenset({"This field is required.", "This field may not be null."})
UNKNOWN_CODE = 0


def antavo_error_body(error: NormalisedError) -> tuple[int, dict[str, Any]]:
    """The status and body Antavo would answer for this error."""
    status, code, message = error.status, UNKNOWN_CODE, error.message
    if error.code in ANTAVO_ERRORS:
        status, code, message = ANTAVO_ERRORS[error.code]
    elif error.code == "validation_error":
        missing = [name for name, messages in error.fields.items() if set(messages) & REQUIRED_MESSAGES]
        if missing:
            code, message = MISSING_PARAMETER_CODE, f"Missing required parameter '{missing[0]}'"
    body = {
        "error": {
            "type": EXCEPTION_TYPES.get(status, "RuntimeException" if status < 500 else "ServerException"),
            "code": code,
            "message": message,
            "reason": error.code,
        }
    }
    return status, body


def antavo_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = normalise_exception(exc)
    if error is None:
        return None
    status, body = antavo_error_body(error)
    return Response(body, status=status, headers=error.headers)
