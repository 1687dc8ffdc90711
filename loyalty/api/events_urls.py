"""Routes of the events API (POST /api/v1/events, /api/v1/events/bulk)."""

from django.urls import path

from loyalty.api.events import EventBulkCreateApi, EventCreateApi

urlpatterns: list = [
    path("events", EventCreateApi.as_view(), name="loyalty-events"),
    path("events/bulk", EventBulkCreateApi.as_view(), name="loyalty-events-bulk"),
]
