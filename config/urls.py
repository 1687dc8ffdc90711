from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.docs import api_docs_view
from loyalty.admin.dashboard import dashboard_view

urlpatterns = [
    path("admin/dashboard/", dashboard_view, name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/schema/", api_docs_view(SpectacularAPIView.as_view()), name="api-schema"),
    path("api/docs/", api_docs_view(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/v1/", include("loyalty.api.urls")),
    path("", include("clienteling.spi.urls")),
    path("", include("clienteling.scan_and_go.urls")),
]

# Under the API surfaces, errors Django answers itself come in the surface's JSON error shape.
handler400 = "config.error_views.bad_request"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
