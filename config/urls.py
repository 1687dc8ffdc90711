from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.docs import api_docs_view
from loyalty.admin.dashboard import dashboard_view
from loyalty.admin.home import back_office_home_view, customer_search_json_view
from loyalty.admin.liability import points_liability_view

# Read-only pages: Swagger's view cannot render DRF's OPTIONS metadata (a 500), so only GET and HEAD are answered.
READ_ONLY = {"http_method_names": ["get", "head"]}

# The back office stays the Django admin, under the retailer's name.
admin.site.site_header = settings.BACK_OFFICE_NAME
admin.site.site_title = settings.BACK_OFFICE_NAME
admin.site.index_title = "Home"

urlpatterns = [
    # The admin index with the clienteling home for store managers (loyalty/admin/home.py); admin:index is the
    # same address.
    path("admin/", back_office_home_view, name="admin-home"),
    path("admin/customer-search/", customer_search_json_view, name="admin-customer-search"),
    path("admin/dashboard/", dashboard_view, name="admin-dashboard"),
    path("admin/points-liability/", points_liability_view, name="admin-points-liability"),
    path("admin/", admin.site.urls),
    path("api/schema/", api_docs_view(SpectacularAPIView.as_view(**READ_ONLY)), name="api-schema"),
    path(
        "api/docs/",
        api_docs_view(SpectacularSwaggerView.as_view(url_name="api-schema", **READ_ONLY)),
        name="api-docs",
    ),
    path("api/v1/", include("loyalty.api.urls")),
    path("", include("clienteling.spi.urls")),
    path("", include("clienteling.scan_and_go.urls")),
    path("", include("compat.urls")),
]

# Under the API surfaces, errors Django answers itself come in the surface's JSON error shape.
handler400 = "config.error_views.bad_request"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
