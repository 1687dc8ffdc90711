"""Authentication as Antavo's clients send it (reference A2): the API key as the `api_key` query parameter, or in the
JSON body of a POST (Antavo's Magento module puts it among the body parameters), or as the Credential of
an Escher signature (`Authorization: ANTAVO-HMAC-SHA256 Credential=<api_key>/<date>/<region>/api/antavo_request,
SignedHeaders=..., Signature=...`). The key is one of our API keys (crm.ApiClient), with its scopes and stores.

Signatures (compat/antavo/escher.py): a client with an Escher signing secret must sign every request, and the
signature is verified; a client without one is let in unsigned only when COMPAT_ANTAVO_ALLOW_UNSIGNED is on.
Wrong keys and bad signatures count towards the per-address failure throttle, as on every API.
"""

import json
from typing import Any

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from compat.antavo.escher import ALGORITHM, EscherError, escher_credential_key, escher_verify
from crm.authentication import api_client_by_key
from crm.models import ApiClient
from crm.throttles import FailedAuthenticationThrottle


def _body_api_key(request: Request, body: bytes) -> str | None:
    if request.method not in ("POST", "PUT", "PATCH") or not body:
        return None
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        return None
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # the parser answers the 400 for the body
    key = payload.get("api_key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None


class AntavoAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiClient, ApiClient] | None:
        # The raw body, read before DRF parses it: a signature covers these bytes exactly.
        body = request._request.body
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        signed = authorization.startswith(ALGORITHM)
        if signed:
            try:
                key: str | None = escher_credential_key(authorization)
            except EscherError as error:
                raise exceptions.AuthenticationFailed(str(error)) from None
        else:
            key = request.query_params.get("api_key") or _body_api_key(request, body)
        if key is None:
            return None
        failures = FailedAuthenticationThrottle()
        if failures.is_exceeded(request):
            raise exceptions.Throttled(wait=failures.wait())
        client = api_client_by_key(key.strip()) if key.strip() else None
        if client is None:
            failures.failure_record(request)
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if client.escher_secret:
            if not signed:
                raise exceptions.AuthenticationFailed(
                    "This API key must sign its requests (Escher, ANTAVO-HMAC-SHA256)."
                )
            try:
                escher_verify(request._request, body=body, key=key, secret=client.escher_secret)
            except EscherError as error:
                failures.failure_record(request)
                raise exceptions.AuthenticationFailed(str(error)) from None
        elif not settings.COMPAT_ANTAVO_ALLOW_UNSIGNED:
            raise exceptions.AuthenticationFailed(
                "This API key has no Escher signing secret and unsigned requests are not accepted."
            )
        return client, client

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no key was sent.
        return f'{ALGORITHM} realm="antavo"'
