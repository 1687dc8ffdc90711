"""How Capillary clients authenticate, mapped to our API keys (crm.ApiClient).

- Basic: Capillary's till credentials are `Authorization: Basic base64(<till user>:<md5(password)>)`. The user name
  is not read; the password as it arrives on the wire is the API key. A till keeps its Capillary code and is
  configured with the key where it held its (hashed) password: we store keys hashed with SHA-256 and cannot check an
  MD5 of one.
- OAuth: Capillary's token header `X-CAP-API-OAUTH-TOKEN: <token>`; the token is the API key (there is no token
  exchange: a client configured with a fixed token works unchanged).
- Our own ways (`Authorization: Bearer`, `X-API-Key`, `?api_key=`) work too.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.request import Request

from crm.authentication import ApiKeyAuthentication

OAUTH_TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"  # noqa: S105  # a header name, not a secret
BASIC_CHALLENGE = 'Basic realm="capillary"'


class CapillaryAuthentication(ApiKeyAuthentication):
    def key_from_request(self, request: Request) -> str | None:
        key = super().key_from_request(request)
        if key is None:
            token = request.headers.get(OAUTH_TOKEN_HEADER, "").strip()
            return token or None
        return key

    def authenticate_header(self, request: Request) -> str:
        return BASIC_CHALLENGE


class CapillaryAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "compat.capillary.authentication.CapillaryAuthentication"
    name = ["capillaryBasic", "capillaryOAuthToken"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: object) -> list[dict]:
        return [
            {
                "type": "http",
                "scheme": "basic",
                "description": "Capillary till credentials: any user name; the password on the wire is the API key.",
            },
            {"type": "apiKey", "in": "header", "name": OAUTH_TOKEN_HEADER, "description": "The API key."},
        ]
