from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def api_docs_view(view: View) -> View:
    """The OpenAPI schema and Swagger UI: open to anyone while API_DOCS_PUBLIC (local machines), else only to staff
    signed in to the admin; anyone else is sent to the admin's login page. The setting is read per request."""
    staff_only_view = staff_member_required(view)

    @wraps(view)
    def docs_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.API_DOCS_PUBLIC:
            return view(request, *args, **kwargs)
        return staff_only_view(request, *args, **kwargs)

    return docs_view
