"""Tells drf-spectacular how API keys are sent, so that the OpenAPI document and Swagger UI offer them."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "crm.authentication.ApiKeyAuthentication"
    name = ["bearerAuth", "apiKeyHeader", "apiKeyQuery"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # One requirement object per scheme: OpenAPI reads the list as alternatives (any one key will do), whereas
        # one object naming all three would require the key in all three places at once.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: object) -> list[dict]:
        return [
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "apiKey", "in": "query", "name": "api_key", "description": "For POS connectors."},
        ]
