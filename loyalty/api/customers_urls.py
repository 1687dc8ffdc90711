"""Routes of the read APIs (customers, lookup, points preview, configuration) and erasure."""

urlpatterns: list = []
