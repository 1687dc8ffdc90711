"""What a delivery's body looks like, chosen per endpoint (WebhookEndpoint.payload_format) when it is sent.

- `standard`: the event's envelope exactly as stored (`{"id", "type", "created_at", "entity", "data"}`), the bytes
  the outbox wrote.
- `antavo`: the flat body Antavo's "Webhook message" sends, for receivers built for Antavo: the event's `data` at
  the top level with `eventName`, Antavo's name for what happened (`voucher_claimed` for coupon.claimed, whose data
  are Antavo's voucher_claimed fields already). Antavo configures its messages per workflow and publishes no fixed
  schema beyond that example, so the other events keep our field names and gain `eventName`, `eventId` and
  `createdAt`.

Both are rendered from the stored envelope alone, so every retry of a delivery sends (and signs) the same bytes.
"""

import json
from typing import Any

from webhooks.models import WebhookEndpoint, WebhookEvent

# Our event types under the action names Antavo's webhook messages carry.
ANTAVO_EVENT_NAMES = {
    "customer.created": "customer_created",
    "customer.updated": "profile",
    "customer.erased": "customer_erased",
    "loyalty.enrolled": "opt_in",
    "loyalty.opted_out": "opt_out",
    "loyalty.points_changed": "points_changed",
    "loyalty.tier_changed": "tier_change",
    "coupon.issued": "voucher_issued",
    "coupon.claimed": "voucher_claimed",
    "coupon.redeemed": "coupon_redeem",
    "purchase.accepted": "checkout_accept",
    "purchase.refunded": "refund",
    "webhook.ping": "ping",
}


def antavo_body(envelope: dict[str, Any]) -> dict[str, Any]:
    """The flat Antavo body of an envelope. coupon.claimed is Antavo's voucher_claimed message as published."""
    data = dict(envelope.get("data") or {})
    if envelope["type"] == "coupon.claimed":
        return data
    name = ANTAVO_EVENT_NAMES.get(envelope["type"], envelope["type"].replace(".", "_"))
    return {"eventName": name, "eventId": envelope["id"], "createdAt": envelope["created_at"], **data}


def delivery_body(*, endpoint: WebhookEndpoint, event: WebhookEvent) -> bytes:
    """The bytes to send (and sign) to this endpoint for this event."""
    if endpoint.payload_format == WebhookEndpoint.PayloadFormat.ANTAVO:
        return json.dumps(antavo_body(event.envelope()), separators=(",", ":"), ensure_ascii=False).encode()
    return event.body.encode()
