from django.urls import path

from clienteling.spi.views import CustomerCollectionSpiApi, CustomerDetailSpiApi

urlpatterns = [
    path("endpoint/sa/customers", CustomerCollectionSpiApi.as_view(), name="spi-customers"),
    path("endpoint/sa/customers/<str:customer_id>", CustomerDetailSpiApi.as_view(), name="spi-customer-detail"),
]
