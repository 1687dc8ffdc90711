"""Each vendor adapter under its own prefix, mounted only when enabled in settings (COMPAT_ADAPTERS)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, include, path

# Each adapter's name in COMPAT_ADAPTERS, its prefix and its URL module.
ADAPTERS: dict[str, tuple[str, str]] = {
    "antavo": ("compat/antavo/", "compat.antavo.urls"),
    "capillary": ("compat/capillary/", "compat.capillary.urls"),
    "loyaltylion": ("compat/loyaltylion/", "compat.loyaltylion.urls"),
}

_unknown = sorted(set(settings.COMPAT_ADAPTERS) - set(ADAPTERS))
if _unknown:
    raise ImproperlyConfigured(
        f"COMPAT_ADAPTERS names unknown adapters: {', '.join(_unknown)}; known: {', '.join(sorted(ADAPTERS))}."
    )

urlpatterns: list[URLPattern | URLResolver] = [
    path(prefix, include(module)) for name, (prefix, module) in ADAPTERS.items() if name in settings.COMPAT_ADAPTERS
]
