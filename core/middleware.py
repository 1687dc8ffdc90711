import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from core.logging import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# What load balancers and clients send (UUIDs, hex, AWS's "Root=1-..."): nothing that could break a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:;=+/-]{0,127}")


def request_id_from_header(value: str) -> str | None:
    return value if SANE_REQUEST_ID.fullmatch(value) else None


def request_id_forget(**kwargs: Any) -> None:
    request_id_var.set(None)


class RequestIdMiddleware:
    """Names each request for the logs: the caller's X-Request-ID when it is sane, else a new UUID, echoed back in
    the response's X-Request-ID. The id stays set until the response is closed (request_finished), because Django
    logs a 4xx response ("Not Found: ...") after the middleware has returned."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        request_finished.connect(request_id_forget, dispatch_uid="core.middleware.request_id_forget")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from_header(request.headers.get(REQUEST_ID_HEADER, "")) or uuid.uuid4().hex
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response of the APIs (API_NO_STORE_PATH_PREFIXES: the SPI, Scan & Go and
    the loyalty API), errors included: they carry customers' personal data and balances that change with each
    purchase, which no browser or shared cache may keep. One rule by path, so that no view can forget it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(tuple(settings.API_NO_STORE_PATH_PREFIXES)):
            response["Cache-Control"] = "no-store"
        return response
