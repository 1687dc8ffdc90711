from django.urls import path

from clienteling.spi.address_views import CustomerAddressSpiApi
from clienteling.spi.views import CustomerCollectionSpiApi, CustomerDetailSpiApi

urlpatterns = [
    path("endpoint/sa/customers", CustomerCollectionSpiApi.as_view(), name="spi-customers"),
    path("endpoint/sa/customers/<str:customer_id>", CustomerDetailSpiApi.as_view(), name="spi-customer-detail"),
    path("endpoint/sa/customer/address", CustomerAddressSpiApi.as_view(), name="spi-customer-address"),
    # A connector URL configured in CMS with a trailing slash answers as without it: the POS cannot follow a
    # redirect for a PUT or POST body, and a typo in CMS should not cost a store its customer lookups. Left out of
    # the OpenAPI document (schema=None), which lists each operation once.
    path("endpoint/sa/customers/", CustomerCollectionSpiApi.as_view(schema=None)),
    path("endpoint/sa/customers/<str:customer_id>/", CustomerDetailSpiApi.as_view(schema=None)),
    path("endpoint/sa/customer/address/", CustomerAddressSpiApi.as_view(schema=None)),
]
