"""A NUL byte (%00) in a URL can name nothing stored here: PostgreSQL refuses it in text, so a path id or an admin
filter holding one used to reach a query and fail there as a 500."""

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

NUL = "\x00"


def _query_holds_nul(request: HttpRequest) -> bool:
    return any(NUL in name or NUL in value for name, values in request.GET.lists() for value in values)


class NulByteMiddleware:
    """A path holding a NUL byte is a 404 (no customer, coupon or admin object has such an id; the API surfaces
    answer it in their own JSON shape, config/error_views.py). In the admin, whose changelist filters and searches
    go straight into querysets, a query string holding one is a 400. The APIs' query parameters are left to their
    serializers, which refuse a NUL byte and name the parameter."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info:
            raise Http404
        # The query is looked at first: a NUL in it is rare, so no request pays for reversing the admin URL.
        if _query_holds_nul(request) and request.path_info.startswith(reverse("admin:index")):
            raise BadRequest("NUL byte in the query string")
        return self.get_response(request)
