"""Routes of the events API (POST /api/v1/events, /api/v1/events/bulk)."""

urlpatterns: list = []
