"""Escher request signatures as Antavo's clients make them (reference A2.2), verified with Emarsys's own Escher
library (escherauth): algorithm ANTAVO-HMAC-SHA256, the signature in `Authorization`, the request time in `Date`,
`host` and `date` always signed, credential scope `<region>/api/antavo_request`, at most 15 minutes of clock skew
(the library default Antavo's SDK uses).

The region is whatever the client signed with: it is part of the signing key and of the signed string, so it needs
no setting here. The path is checked as Django hands it over, percent-encoded again (what a client signs for plain
ids such as UUIDs); the query string as sent.
"""

import re

from django.http import HttpRequest
from django.utils.encoding import escape_uri_path
from escherauth.escherauth import Escher, EscherException

ALGORITHM = "ANTAVO-HMAC-SHA256"
ALGO_PREFIX = "ANTAVO"
VENDOR_KEY = "Antavo"
CLOCK_SKEW_SECONDS = 900
# Credential=<api_key>/<YYYYMMDD>/<region>/api/antavo_request
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9_\-]+)/(\d{8})/([A-Za-z0-9_\-]+/api/antavo_request)\s*,")


class EscherError(Exception):
    """The request's signature is missing, malformed, stale or wrong; the message says which."""


def _credential(authorization: str) -> tuple[str, str]:
    match = _CREDENTIAL.search(authorization)
    if match is None:
        raise EscherError(
            "Malformed Authorization header: expected Credential=<api_key>/<YYYYMMDD>/<region>/api/antavo_request."
        )
    return match.group(1), match.group(3)


def escher_credential_key(authorization: str) -> str:
    """The API key an Escher Authorization header names as its credential."""
    return _credential(authorization)[0]


def escher_verify(request: HttpRequest, *, body: bytes, key: str, secret: str) -> None:
    """Check the request's Escher signature against the client's `secret`. Raises EscherError naming what is wrong."""
    _, scope = _credential(request.META.get("HTTP_AUTHORIZATION", ""))
    query = request.META.get("QUERY_STRING", "")
    escher = Escher(
        key,
        secret,
        scope,
        {
            "algo_prefix": ALGO_PREFIX,
            "vendor_key": VENDOR_KEY,
            "auth_header_name": "Authorization",
            "date_header_name": "Date",
            "clock_skew": CLOCK_SKEW_SECONDS,
        },
    )
    signed_request = {
        "method": request.method or "GET",
        "url": escape_uri_path(request.path) + (f"?{query}" if query else ""),
        "headers": [[name, value] for name, value in request.headers.items()],
        "body": body.decode("utf-8", errors="replace"),
    }
    try:
        escher.authenticate(signed_request, {key: secret})
    except (EscherException, ValueError) as error:
        # ValueError: a Date header in neither of the two formats Escher reads.
        raise EscherError(f"Escher signature refused: {error}") from None
