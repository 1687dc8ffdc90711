"""Django's own error views (handler400, handler404 and handler500 in config/urls.py), for what no DRF view answers:
an unknown URL or one holding a NUL byte (core/nul_bytes.py), a request Django refuses before routing it, an
exception a view did not handle. Under an API surface they answer JSON in that surface's error shape, as its views
do, rather than Django's HTML page; elsewhere (the admin) Django's page. A 500 never carries the exception's text:
Django logs it, with the traceback, before calling handler500."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from clienteling.scan_and_go.errors import scan_and_go_exception_handler
from clienteling.spi.errors import spi_exception_handler
from compat.antavo.errors import antavo_exception_handler
from compat.capillary.errors import capillary_exception_handler
from compat.loyaltylion.errors import loyaltylion_exception_handler
from core.api.exception_handler import MalformedRequest, ServerError, api_exception_handler

ExceptionHandler = Callable[[Exception, dict[str, Any]], Response | None]

# Each API surface's path prefix and the exception handler its views use.
SURFACE_EXCEPTION_HANDLERS: tuple[tuple[str, ExceptionHandler], ...] = (
    ("/endpoint/", spi_exception_handler),
    ("/customer-profile", scan_and_go_exception_handler),
    ("/compat/antavo/", antavo_exception_handler),
    ("/compat/capillary/", capillary_exception_handler),
    ("/compat/loyaltylion/", loyaltylion_exception_handler),
    ("/api/", api_exception_handler),
)


def _surface_error_response(request: HttpRequest, exc: exceptions.APIException) -> HttpResponse | None:
    for prefix, handler in SURFACE_EXCEPTION_HANDLERS:
        if request.path_info.startswith(prefix):
            response = handler(exc, {"request": request})
            if response is None:
                return None
            return HttpResponse(
                JSONRenderer().render(response.data), status=response.status_code, content_type="application/json"
            )
    return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _surface_error_response(request, MalformedRequest()) or defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _surface_error_response(request, exceptions.NotFound()) or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    return _surface_error_response(request, ServerError()) or defaults.server_error(request)
