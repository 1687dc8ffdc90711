"""One HTTP POST of a signed delivery, with explicit timeouts, no redirects followed and at most 1 KB read back."""

import ssl
import time
from dataclasses import dataclass
from functools import cache

import httpx

from webhooks import conf
from webhooks.models import RESPONSE_BODY_LIMIT

USER_AGENT = "retail-crm-webhooks/1.0"


@dataclass(frozen=True)
class TransportResult:
    status_code: int | None
    response_body: str
    error: str
    duration_ms: int


@cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes about 50 ms: once per process, not once per delivery.
    return httpx.create_ssl_context()


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> TransportResult:
    """POST and report what happened; a timeout or a connection failure is a result (error set, no status)."""
    limits = conf.timeouts()
    timeout = httpx.Timeout(limits["read"], connect=limits["connect"])
    all_headers = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
    started = time.monotonic()
    try:
        # A redirect is answered as a failure to retry: a receiver that moved must be re-registered.
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, verify=_ssl_context()) as client,
            client.stream("POST", url, content=body, headers=all_headers) as response,
        ):
            return TransportResult(
                status_code=response.status_code,
                response_body=_first_kilobyte(response),
                error="",
                duration_ms=_elapsed_ms(started),
            )
    except httpx.TransportError as error:
        return TransportResult(
            status_code=None,
            response_body="",
            error=f"{type(error).__name__}: {error}"[:1000],
            duration_ms=_elapsed_ms(started),
        )


def _first_kilobyte(response: httpx.Response) -> str:
    # Read no more than we keep: a receiver answering with megabytes must not cost us memory or time.
    received = b""
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) >= RESPONSE_BODY_LIMIT:
            break
    return received[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
