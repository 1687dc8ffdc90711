"""Adds the webhook event catalogue to the OpenAPI description, so integrators find it next to the APIs."""

from typing import Any

from webhooks.catalogue import CATALOGUE


def add_webhook_catalogue(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    rows = "\n".join(f"| `{name}` | {event.description} |" for name, event in CATALOGUE.items())
    result["info"]["description"] += (
        "\n\n## Webhooks\n\nSubscribed endpoints receive these events, signed per Standard Webhooks "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature`); payloads and verification are in "
        "docs/webhooks.md.\n\n| event | when |\n|---|---|\n" + rows
    )
    return result
