from django.urls import path

from clienteling.scan_and_go.views import CustomerProfileScanAndGoApi

urlpatterns = [
    path("customer-profile", CustomerProfileScanAndGoApi.as_view(), name="scan-and-go-customer-profile"),
]
