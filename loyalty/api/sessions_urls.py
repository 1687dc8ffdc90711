"""Routes of the shopper sessions (loyalty/api/sessions.py)."""

from django.urls import path

from loyalty.api.sessions import CustomerSessionStartApi, SessionStartApi

urlpatterns: list = [
    path("sessions", SessionStartApi.as_view(), name="loyalty-session-start"),
    # <path:>, not <str:>: a merchant id may hold slashes once its %2F are decoded (Shopify's gid://shopify/...).
    path(
        "customers/<path:merchant_id>/sessions",
        CustomerSessionStartApi.as_view(),
        name="loyalty-customer-session-start",
    ),
]
