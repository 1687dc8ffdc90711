from django.urls import path

from compat.loyaltylion.views import (
    ConfigurationGetLoyaltyLionApi,
    CustomerGetLoyaltyLionApi,
    SessionStartLoyaltyLionApi,
)

PREFIX = "headless/2025-06/<int:site_id>/"

# merchant_id may hold slashes (a URL-encoded Shopify GID arrives decoded); the sessions path is matched first.
urlpatterns = [
    path(PREFIX + "configuration", ConfigurationGetLoyaltyLionApi.as_view(), name="loyaltylion-configuration"),
    path(
        PREFIX + "customers/<path:merchant_id>/sessions",
        SessionStartLoyaltyLionApi.as_view(),
        name="loyaltylion-session-initialize",
    ),
    path(PREFIX + "customers/<path:merchant_id>", CustomerGetLoyaltyLionApi.as_view(), name="loyaltylion-customer-get"),
]
