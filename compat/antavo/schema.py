"""Tells drf-spectacular how Antavo's clients send their key: `?api_key=` or an
Escher signature in Authorization. The key in a JSON body is described on each operation."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AntavoAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "compat.antavo.authentication.AntavoAuthentication"
    name = ["antavoApiKeyQuery", "antavoEscher"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Alternatives: either will do.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: object) -> list[dict]:
        return [
            {"type": "apiKey", "in": "query", "name": "api_key", "description": "For POS connectors."},
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": (
                    "Escher signature: ANTAVO-HMAC-SHA256 Credential=<api_key>/<YYYYMMDD>/<region>/api/antavo_request, "
                    "SignedHeaders=date;host, Signature=<hex>; the time in the Date header."
                ),
            },
        ]
