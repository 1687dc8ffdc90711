"""API-key authentication for every API.

The key may come as `Authorization: Bearer <key>`, `X-API-Key: <key>`, `?api_key=<key>` (POS connectors can only
add static query parameters) or `Authorization: Basic base64(any-user:<key>)` (device vendors that only
speak Basic auth).

Wrong keys are counted per client address (crm/throttles.py): past API_FAILED_AUTHENTICATION_RATE, every request
with a key from that address gets 429 until the window closes, before any key is looked up.
"""

import base64
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from crm.api_key_cache import api_client_cache
from crm.models import ApiClient
from crm.selectors import api_client_allowed_store_codes_annotation
from crm.services.api_clients import api_key_hash
from crm.throttles import FailedAuthenticationThrottle

# Recording every use would turn each read into a write; once every few minutes is enough for the admin.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _key_from_request(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic" and credentials.strip():
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        # ValueError: a header with non-ASCII characters (binascii.Error and UnicodeDecodeError are ValueErrors too).
        except ValueError:
            return ""
        return decoded.partition(":")[2]
    if request.META.get("HTTP_X_API_KEY"):
        return request.META["HTTP_X_API_KEY"].strip()
    if request.query_params.get("api_key"):
        return request.query_params["api_key"].strip()
    return None


def api_client_by_key(key: str) -> ApiClient | None:
    """The active client holding this key: from this process's copy when it is younger than API_KEY_CACHE_SECONDS
    (crm/api_key_cache.py: no query), otherwise one query. last_used_at is written at most once per
    LAST_USED_RESOLUTION and process. Unknown keys are not cached: a new key works at once everywhere."""
    key_hash = api_key_hash(key)
    client = api_client_cache.get(key_hash)
    if client is None:
        # The allowed stores come with the key, in the same query: checking them must not cost one more. The
        # stores' subquery is built once per process (annotate copies it) and [:1] avoids first()'s ORDER BY.
        clients = ApiClient.objects.filter(key_hash=key_hash, is_active=True).annotate(
            **api_client_allowed_store_codes_annotation()
        )
        client = next(iter(clients[:1]), None)
        if client is None:
            return None
        api_client_cache.put(key_hash, client)
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def key_from_request(self, request: Request) -> str | None:
        """The key the request carries: None for none at all, "" for an unreadable one. Vendor adapters whose clients
        send the key elsewhere (Capillary's X-CAP-API-OAUTH-TOKEN) override this and keep the rest."""
        return _key_from_request(request)

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiClient] | None:
        key = self.key_from_request(request)
        if key is None:
            return None
        failures = FailedAuthenticationThrottle()
        if failures.is_exceeded(request):
            raise exceptions.Throttled(wait=failures.wait())
        client = api_client_by_key(key) if key else None
        if client is None:
            failures.failure_record(request)
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return client, client

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no key was sent.
        return 'Bearer realm="api"'
