"""The event types a webhook endpoint can subscribe to, defined once here with an example of each.

docs/webhooks.md shows the same examples; tests/webhooks/test_catalogue_docs.py keeps the two in step.
Payload keys are snake_case like our own APIs, except coupon.claimed, which carries the camelCase fields of
Antavo's `voucher_claimed` message so that receivers built for Antavo can read it unchanged.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventType:
    description: str
    example_entity: dict[str, Any]
    example_data: dict[str, Any]


CUSTOMER = {
    "id": "C000000000001",
    "status": "active",
    "salutation": "Ms",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone_mobile": "+14155550100",
    "birthday": "1990-12-10",
    "preferred_language": "en",
    "country": "US",
    "postal_code": "94105",
    "customer_group": "",
    "created_store": "SF01",
    "consents": {"agree_to_tc": True, "e_receipt": True, "news_letter_sign_up": False},
}
CUSTOMER_ENTITY = {"id": "C000000000001", "updated_at": "2026-03-01T09:00:00.123456Z"}
ACCOUNT_ENTITY = {"id": "500000000018", "updated_at": "2026-03-01T09:05:00.000000Z"}
COUPON = {
    "code": "COUPON-123456",
    "status": "issued",
    "type": "percentage",
    "value": "10",
    "name": "Welcome_10",
    "expires_at": "2026-05-16T21:59:00Z",
    "created_at": "2026-03-01T09:10:00Z",
}
COUPON_ENTITY = {"id": "COUPON-123456", "updated_at": "2026-03-01T09:10:00.000000Z"}
PURCHASE = {
    "customer_id": "C000000000001",
    "account_number": "500000000018",
    "transaction_id": "SF01-0042-10001",
    "store": "SF01",
    "channel": "store",
    "currency": "USD",
    "total": "120.00",
    "eligible_total": "110.00",
    "points_earned": 110,
    "points_burned": 0,
    "state": "accepted",
    "purchased_at": "2026-03-01T09:20:00Z",
}

CATALOGUE: dict[str, EventType] = {
    "customer.created": EventType(
        "A customer record was created (POS sign-up, API or back office).",
        CUSTOMER_ENTITY,
        {"customer": CUSTOMER},
    ),
    "customer.updated": EventType(
        "A customer's profile, contact data or consents changed; `changed_fields` names what changed.",
        {**CUSTOMER_ENTITY, "updated_at": "2026-03-02T10:00:00.000000Z"},
        {"customer": {**CUSTOMER, "email": "ada.lovelace@example.com"}, "changed_fields": ["email"]},
    ),
    "customer.erased": EventType(
        "A customer's personal data was erased. Carries ids only, never personal data: delete yours too.",
        {**CUSTOMER_ENTITY, "updated_at": "2026-03-03T08:00:00.000000Z"},
        {"customer": {"id": "C000000000001", "status": "erased"}, "erased_at": "2026-03-03T08:00:00Z"},
    ),
    "loyalty.enrolled": EventType(
        "A customer joined a loyalty program and got an account number, or rejoined it after an opt-out (same "
        "account number, points unfrozen).",
        ACCOUNT_ENTITY,
        {
            "customer_id": "C000000000001",
            "account": {
                "number": "500000000018",
                "program": "default",
                "state": "enrolled",
                "tier": "member",
                "points_balance": 0,
                "enrolled_at": "2026-03-01T09:05:00Z",
                "enrolled_store": "SF01",
            },
        },
    ),
    "loyalty.opted_out": EventType(
        "A customer left a loyalty program (the events API's opt_out, or the POS withdrew consents.loyaltySignUp): "
        "the account is a guest now, its points kept but frozen. Opting in again sends loyalty.enrolled with the same "
        "account number.",
        {**ACCOUNT_ENTITY, "updated_at": "2026-03-05T12:00:00.000000Z"},
        {
            "customer_id": "C000000000001",
            "account": {
                "number": "500000000018",
                "program": "default",
                "state": "guest",
                "points_balance": 1610,
                "opted_out_at": "2026-03-05T12:00:00Z",
            },
        },
    ),
    "loyalty.points_changed": EventType(
        "A loyalty account's points balance changed (earn, burn, expiry, adjustment, refund). The entity version "
        "is the id of the newest ledger entry, which only grows.",
        {"id": "500000000018", "version": 42},
        {
            "customer_id": "C000000000001",
            "account_number": "500000000018",
            "kind": "earn",
            "change": 110,
            "balance": 1610,
            "pending": 0,
            "source": "purchase",
            "reference": "SF01-0042-10001",
            "expires_at": "2027-03-01T00:00:00Z",
        },
    ),
    "loyalty.tier_changed": EventType(
        "A loyalty account moved to another tier (enrolment, upgrade, renewal, downgrade at expiry).",
        {**ACCOUNT_ENTITY, "updated_at": "2026-03-01T09:20:00.000000Z"},
        {
            "customer_id": "C000000000001",
            "account_number": "500000000018",
            "from_tier": "member",
            "to_tier": "gold",
            "reason": "upgrade",
            "qualifying_value": "1250.00",
            "expires_at": "2027-03-31T23:59:59Z",
        },
    ),
    "coupon.issued": EventType(
        "A coupon was issued to a customer.",
        COUPON_ENTITY,
        {"customer_id": "C000000000001", "coupon": COUPON},
    ),
    "coupon.claimed": EventType(
        "A customer claimed a coupon. The fields are those of Antavo's voucher_claimed message, in its camelCase, "
        "with `value` as a string and ISO timestamps with an offset; `consentGuid` is our customer id, also sent as "
        "`customerId`, and `eventName` is always `voucher_claimed`.",
        {**COUPON_ENTITY, "updated_at": "2026-03-01T09:12:00.000000Z"},
        {
            "consentGuid": "C000000000001",
            "customerId": "C000000000001",
            "voucherCode": "COUPON-123456",
            "voucherStatus": "claimed",
            "voucherType": "percentage",
            "value": "10",
            "voucherName": "Welcome_10",
            "expiresAt": "2026-05-16T21:59:00+00:00",
            "createdAt": "2026-03-01T09:10:00+00:00",
            "claimedAt": "2026-03-01T09:12:00+00:00",
            "eventName": "voucher_claimed",
        },
    ),
    "coupon.redeemed": EventType(
        "A coupon was redeemed in a purchase; `store` is the store the till named, null when it named none.",
        {**COUPON_ENTITY, "updated_at": "2026-03-01T09:20:00.000000Z"},
        {
            "customer_id": "C000000000001",
            "coupon": {**COUPON, "status": "redeemed"},
            "redeemed_at": "2026-03-01T09:20:00Z",
            "transaction_id": "SF01-0042-10001",
            "store": "SF01",
        },
    ),
    "purchase.accepted": EventType(
        "A purchase was accepted by the loyalty engine and its points calculated.",
        {"id": "SF01-0042-10001", "updated_at": "2026-03-01T09:20:00.500000Z"},
        {"purchase": PURCHASE},
    ),
    "purchase.refunded": EventType(
        "A purchase was refunded in full or in part and its points taken back.",
        {"id": "SF01-0042-10001", "updated_at": "2026-03-04T15:00:00.000000Z"},
        {
            "purchase": {**PURCHASE, "state": "partially_refunded", "refunded_total": "40.00"},
            "refund": {"amount": "40.00", "points_taken_back": 40, "refunded_at": "2026-03-04T15:00:00Z"},
        },
    ),
}

# An endpoint subscribed to [] or ["*"] receives every type in the catalogue.
ALL_EVENTS = "*"

# Sent only by the admin's "Send test ping", to the one endpoint it was asked for; never fanned out.
PING = "webhook.ping"


def event_types_unknown(event_types: Iterable[str]) -> list[str]:
    return sorted({name for name in event_types if name not in CATALOGUE and name != ALL_EVENTS})


def event_type_is_subscribed(*, subscribed: Iterable[str], event_type: str) -> bool:
    subscribed = list(subscribed)
    return not subscribed or ALL_EVENTS in subscribed or event_type in subscribed
