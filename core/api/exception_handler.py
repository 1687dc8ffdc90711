"""The one error vocabulary of our own APIs: `{"message", "code", "extra": {"fields": ...}}`.

Vendor adapters (the Clienteling SPI, Scan & Go) override `get_exception_handler()` and render their own shape
from the same normalised error, see `normalise_exception`.
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from core.exceptions import ApplicationError


@dataclass
class NormalisedError:
    status: int
    code: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _dotted_field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error dict into {"profile.email": ["Enter a valid email address."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix and key != "non_field_errors" else (prefix or str(key))
            flat.update(_dotted_field_errors(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            flat[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                flat.update(_dotted_field_errors(item, f"{prefix}[{index}]"))
    else:
        flat[prefix or "non_field_errors"] = [str(detail)]
    return flat


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


class MalformedRequest(exceptions.APIException):
    """A request Django refused before any view saw it (SuspiciousOperation: too many query parameters, a bad Host
    header), answered by config/error_views.py."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = exceptions.ParseError.default_detail
    default_code = "bad_request"


class ServerError(exceptions.APIException):
    """An exception no handler knew, answered by config/error_views.py: DRF's generic message, never the exception's
    text (Django logs that, with the traceback)."""

    default_code = "internal_server_error"


def normalise_exception(exc: Exception) -> NormalisedError | None:
    """Map the exceptions our views may raise to one structure, or None for a genuine server error."""
    if isinstance(exc, RequestDataTooBig):
        # DRF reads request.body, where Django enforces DATA_UPLOAD_MAX_MEMORY_SIZE before parsing anything.
        exc = PayloadTooLarge(f"Request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    if isinstance(exc, ApplicationError):
        return NormalisedError(status=exc.status, code=str(exc.code), message=exc.message, extra=exc.extra)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.ValidationError):
        fields = _dotted_field_errors(exc.detail)
        first_name, first_messages = next(iter(fields.items()))
        message = first_messages[0] if first_name == "non_field_errors" else f"{first_name}: {first_messages[0]}"
        return NormalisedError(
            status=status.HTTP_400_BAD_REQUEST, code="validation_error", message=message, fields=fields
        )
    return NormalisedError(
        status=exc.status_code,
        code=str(exc.get_codes()) if isinstance(exc.get_codes(), str) else exc.default_code,
        message=_first_message(exc.detail),
        headers=headers,
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = normalise_exception(exc)
    if error is None:
        return None
    body: dict[str, Any] = {"message": error.message, "code": error.code, "extra": dict(error.extra)}
    if error.fields:
        body["extra"]["fields"] = error.fields
    return Response(body, status=error.status, headers=error.headers)
