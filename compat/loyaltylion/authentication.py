"""LoyaltyLion's headless API takes an API key as `Authorization: Bearer <token>` and nothing else (its deprecated
token-and-secret Basic auth is refused there), so this adapter reads only that header. The token is our API key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.request import Request

from crm.authentication import ApiKeyAuthentication

BEARER_CHALLENGE = 'Bearer realm="loyaltylion"'


class LoyaltyLionAuthentication(ApiKeyAuthentication):
    def key_from_request(self, request: Request) -> str | None:
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return credentials.strip()

    def authenticate_header(self, request: Request) -> str:
        return BEARER_CHALLENGE


class LoyaltyLionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "compat.loyaltylion.authentication.LoyaltyLionAuthentication"
    name = "loyaltylionBearer"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>"}
