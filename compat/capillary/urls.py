from django.urls import path

from compat.capillary.views import (
    CustomerDetailsLookupCapillaryApi,
    CustomerGetCapillaryApi,
    CustomerIdLookupCapillaryApi,
)

# The lookups first: "lookup" would otherwise be read as a customer id.
urlpatterns = [
    path(
        "v2/customers/lookup/customerDetails",
        CustomerDetailsLookupCapillaryApi.as_view(),
        name="capillary-customer-details-lookup",
    ),
    path("v2/customers/lookup", CustomerIdLookupCapillaryApi.as_view(), name="capillary-customer-id-lookup"),
    path("v2/customers/<str:customer_id>", CustomerGetCapillaryApi.as_view(), name="capillary-customer-get"),
]
