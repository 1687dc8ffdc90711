"""The product's URLs plus the floors the benchmark measures it against, in the same server and run."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import HasRequiredScope


def django_floor(request: HttpRequest) -> JsonResponse:
    """Bare Django: the full middleware stack and a JSON response, no database."""
    return JsonResponse({"ok": True})


class AuthenticatedFloorApi(APIView):
    """DRF with our API-key authentication and scope check: what every API request pays before its own work."""

    required_scope = "scan_and_go"
    permission_classes = (HasRequiredScope,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("bench/floor/django", django_floor),
    path("bench/floor/authenticated", AuthenticatedFloorApi.as_view()),
    path("", include("config.urls")),
]
