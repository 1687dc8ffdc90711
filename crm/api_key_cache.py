"""The API clients recently authenticated by this process, by key hash (crm/authentication.py).

Every API request authenticates; reading the client from the database each time cost a query (and a fifth of the
DRF floor's time). A copy is trusted for API_KEY_CACHE_SECONDS: the services that change a client
(crm/services/api_clients.py) clear this process's copies at once, and another process sees a deactivated or
rotated key refused within that many seconds. Wall-clock time (time.time), so that tests can move it.
"""

import threading
import time

from django.conf import settings

from crm.models import ApiClient

# A process sees few keys (one per till integration); past this many, the copies are dropped and read again.
MAX_CACHED_KEYS = 1024


class ApiClientCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[ApiClient, float]] = {}

    def get(self, key_hash: str) -> ApiClient | None:
        entry = self._clients.get(key_hash)
        if entry is None:
            return None
        client, loaded_at = entry
        if time.time() - loaded_at >= settings.API_KEY_CACHE_SECONDS:
            with self._lock:
                self._clients.pop(key_hash, None)
            return None
        return client

    def put(self, key_hash: str, client: ApiClient) -> None:
        if settings.API_KEY_CACHE_SECONDS <= 0:
            return
        with self._lock:
            if len(self._clients) >= MAX_CACHED_KEYS:
                self._clients.clear()
            self._clients[key_hash] = (client, time.time())

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


api_client_cache = ApiClientCache()
