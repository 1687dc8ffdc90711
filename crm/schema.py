"""Tells drf-spectacular how API keys are sent, so that the OpenAPI document and Swagger UI offer them, and which
pattern documents the person-name rule (core/api/schema.py explains why it needs one)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from core.api.schema import schema_pattern_register
from crm.validators import validate_person_name

# validate_person_name in the ECMA dialect, where \w is ASCII only: the ASCII characters it refuses are refused
# here too (first a letter or digit; then also whitespace, apostrophes, commas, hyphens and full stops); other
# characters are left to the server, which takes letters and combining marks of any script.
PERSON_NAME_PATTERN = (
    r"^(?:[^\u0000-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f]"
    r"[^\u0000-\u0008\u000e-\u001b\u0021-\u0026\u0028-\u002b\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f]*)?$"
)
schema_pattern_register(validate_person_name, PERSON_NAME_PATTERN)


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
