"""Routes of the read APIs (customers, their ledger, lookup, points preview, configuration) and erasure."""

from django.urls import path

from loyalty.api.customers import (
    ConfigurationGetApi,
    CustomerEraseApi,
    CustomerGetApi,
    CustomerLookupApi,
    PointsPreviewApi,
)
from loyalty.api.transactions import CustomerTransactionListApi

urlpatterns: list = [
    # Before customers/<id>, which would otherwise take "lookup" for an id.
    path("customers/lookup", CustomerLookupApi.as_view(), name="loyalty-customer-lookup"),
    path("customers/<str:customer_id>", CustomerGetApi.as_view(), name="loyalty-customer-get"),
    path("customers/<str:customer_id>/erase", CustomerEraseApi.as_view(), name="loyalty-customer-erase"),
    path(
        "customers/<str:customer_id>/transactions",
        CustomerTransactionListApi.as_view(),
        name="loyalty-customer-transaction-list",
    ),
    path("points/preview", PointsPreviewApi.as_view(), name="loyalty-points-preview"),
    path("configuration", ConfigurationGetApi.as_view(), name="loyalty-configuration"),
]
