"""Each vendor adapter under its own prefix, mounted only when enabled in settings (COMPAT_ADAPTERS)."""

from django.urls import URLPattern, URLResolver

# Adapters add themselves here: path("compat/<vendor>/", include("compat.<vendor>.urls")) behind their setting.
urlpatterns: list[URLPattern | URLResolver] = []
