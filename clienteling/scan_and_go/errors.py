"""Errors as Scan & Go devices get them: a bare 401 for a missing or wrong key (as the SPI does), and otherwise
`{"errorCode", "errorMessage"}` with the matching status, the message naming the query parameter at fault (an
ApplicationError names it in `extra["field"]`). A customer not found is not an error here: the view answers a
bare 404 itself."""

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response

from core.api.exception_handler import normalise_exception
from core.exceptions import ApplicationError

# Devices configured for HTTP Basic auth (the vendor's usual outbound auth) need a challenge to retry with it.
BASIC_CHALLENGE = 'Basic realm="scan-and-go", charset="UTF-8"'


def scan_and_go_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return Response(status=401, headers={"WWW-Authenticate": BASIC_CHALLENGE})
    error = normalise_exception(exc)
    if error is None:
        return None
    message = error.message
    if isinstance(exc, ApplicationError) and "field" in exc.extra:
        message = f"{exc.extra['field']}: {message}"
    return Response(
        {"errorCode": error.code.upper(), "errorMessage": message}, status=error.status, headers=error.headers
    )
