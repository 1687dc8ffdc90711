"""Rate limits of the APIs: per API key and scope, and per client address for wrong keys.

Both count in fixed windows with one atomic `incr` on the cache (Redis in production) rather than DRF's default
sliding log, which stores a timestamp per request (a busy key's list of thousands is read and rewritten on each
call) and loses hits when parallel requests read and write it at once. A window may let up to twice the rate
through across its boundary; that is the price of one O(1) counter.

A cache that cannot be reached lets requests through (and logs a warning): a rate limit must not take the APIs
down with it.
"""

import logging
import math
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.client_ip import client_ip_address
from crm.models import ApiClient

if TYPE_CHECKING:
    # Only for the annotation: rest_framework.views imports the authentication classes, which import this module.
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What a cache backend raises when its server is gone: redis-py's own errors, sockets' OSError.
CACHE_ERRORS = (RedisError, OSError)


def rate_parse(rate: str | None) -> tuple[int, int] | None:
    """ "1200/min" -> (1200, 60); None or "" means no limit. Periods as DRF spells them: s, m, h, d (or longer)."""
    if not rate:
        return None
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period.strip()[:1]]


class FixedWindowThrottle(BaseThrottle):
    """Counts hits on `counter_key` per window of the rate's period; subclasses say what is counted."""

    def __init__(self, rate: str | None) -> None:
        limit = rate_parse(rate)
        self.limit, self.period = limit if limit else (0, 0)
        self.retry_after = 0

    def _window_key(self, counter_key: str) -> str:
        now = time.time()
        window_start = int(now // self.period) * self.period
        self.retry_after = max(1, math.ceil(window_start + self.period - now))
        return f"{counter_key}:{window_start}"

    def hits(self, counter_key: str) -> int:
        window_key = self._window_key(counter_key)
        try:
            return int(cache.get(window_key, 0))
        except CACHE_ERRORS:
            logger.warning("Rate limit not checked: the cache is unreachable.", exc_info=True)
            return 0

    def hit(self, counter_key: str) -> int:
        """Counts one more hit in the current window and returns the window's count (0 if the cache is down)."""
        window_key = self._window_key(counter_key)
        try:
            # add() is a no-op when the window exists; incr() is atomic on Redis and locmem.
            cache.add(window_key, 0, timeout=self.period + 1)
            return cache.incr(window_key)
        except ValueError:
            # The window expired between add() and incr(): this hit opens the next one.
            cache.set(window_key, 1, timeout=self.period + 1)
            return 1
        except CACHE_ERRORS:
            logger.warning("Rate limit not counted: the cache is unreachable.", exc_info=True)
            return 0

    def wait(self) -> float:
        """Seconds until the window that refused the request closes: the response's Retry-After."""
        return self.retry_after


class ApiClientRateThrottle(FixedWindowThrottle):
    """Limits each API key per scope (the view's `required_scope`) to `API_THROTTLE_RATES[scope]`. Requests that
    carry no valid key never get here (authentication refused them), and views without a scope (the schema) are
    not limited."""

    def __init__(self) -> None:
        super().__init__(None)

    def allow_request(self, request: Request, view: "APIView") -> bool:
        scope = getattr(view, "required_scope", None)
        client: object = request.user  # what ApiKeyAuthentication returned (the stubs say a User)
        if scope is None or not isinstance(client, ApiClient):
            return True
        limit = rate_parse(settings.API_THROTTLE_RATES.get(scope))
        if limit is None:
            return True
        self.limit, self.period = limit
        return self.hit(f"throttle:scope:{scope}:{client.pk}") <= self.limit


class FailedAuthenticationThrottle(FixedWindowThrottle):
    """Counts wrong API keys per client address (`API_FAILED_AUTHENTICATION_RATE`; the address is taken from
    X-Forwarded-For only behind `NUM_PROXIES` trusted proxies). Once over the limit, every request from that
    address that carries a key is refused until the window closes, a right key too: a 200 among the 429s would
    tell a guesser which key is real."""

    def __init__(self) -> None:
        super().__init__(settings.API_FAILED_AUTHENTICATION_RATE)

    def _counter_key(self, request: Request) -> str:
        return f"throttle:failed_authentication:{client_ip_address(request)}"

    def is_exceeded(self, request: Request) -> bool:
        return bool(self.limit) and self.hits(self._counter_key(request)) >= self.limit

    def failure_record(self, request: Request) -> None:
        if self.limit:
            self.hit(self._counter_key(request))
