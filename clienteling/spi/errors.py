"""Errors as the POS expects them: `{"errorCode", "errorMessage"}` with the matching HTTP status, the message in
the language of the request's Accept-Language where we have a translation, and a 401 with an empty body (and its
WWW-Authenticate challenge) for a bad key."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response

from clienteling.error_codes import SpiErrorCode
from clienteling.mapping import SPI_FIELD_PATHS
from core.api.exception_handler import normalise_exception
from core.exceptions import ApplicationError

DRF_CODES = {
    "parse_error": SpiErrorCode.INVALID_JSON,
    "validation_error": SpiErrorCode.VALIDATION_ERROR,
    "permission_denied": SpiErrorCode.FORBIDDEN,
    "not_found": SpiErrorCode.NOT_FOUND,
    "method_not_allowed": SpiErrorCode.METHOD_NOT_ALLOWED,
    "unsupported_media_type": SpiErrorCode.UNSUPPORTED_MEDIA_TYPE,
    "payload_too_large": SpiErrorCode.PAYLOAD_TOO_LARGE,
    "throttled": SpiErrorCode.TOO_MANY_REQUESTS,
    "bad_request": SpiErrorCode.INVALID_REQUEST,
    "internal_server_error": SpiErrorCode.INTERNAL_SERVER_ERROR,
}


def _field_message(field: str, message: str) -> str:
    path = SPI_FIELD_PATHS.get(field, field)
    # A message may name its field already (the Idempotency-Key header's does).
    return message if message.startswith(path) else f"{path}: {message}"


def _django_validation_message(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.message_dict.items()))
        return errors[0] if field == "__all__" else _field_message(field, errors[0])
    return exc.messages[0]


def spi_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # The body stays empty, as the POS expects; the challenge is the one DRF took from the authenticator.
        challenge = getattr(exc, "auth_header", None)
        return Response(status=401, headers={"WWW-Authenticate": challenge} if challenge else None)
    error = normalise_exception(exc)
    if error is None:
        return None
    message = error.message
    if isinstance(exc, ApplicationError) and "field" in exc.extra:
        message = _field_message(exc.extra["field"], exc.message)
    elif isinstance(exc, DjangoValidationError):
        message = _django_validation_message(exc)
    code = error.code if isinstance(exc, ApplicationError) else DRF_CODES.get(error.code, error.code.upper())
    body = {"errorCode": str(code), "errorMessage": message}
    if isinstance(exc, ApplicationError) and "customer_id" in exc.extra:
        # EMAIL_ALREADY_IN_USE names the customer who has the email, so that a till can recover a sign-up it
        # retried after the first one committed.
        body["customerId"] = exc.extra["customer_id"]
    return Response(body, status=error.status, headers=error.headers)
