"""Routes of the Antavo adapter, at Antavo's own paths under /compat/antavo/."""

from django.urls import path

from compat.antavo.views import (
    AntavoCustomerCouponListApi,
    AntavoCustomerGetApi,
    AntavoEventBulkCreateApi,
    AntavoEventCreateApi,
)

urlpatterns: list = [
    path("events", AntavoEventCreateApi.as_view(), name="antavo-events"),
    path("events/bulk", AntavoEventBulkCreateApi.as_view(), name="antavo-events-bulk"),
    path("customers/<str:customer_id>", AntavoCustomerGetApi.as_view(), name="antavo-customer"),
    path("customers/<str:customer_id>/coupons", AntavoCustomerCouponListApi.as_view(), name="antavo-customer-coupons"),
]
