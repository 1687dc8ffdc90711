"""Examples shown in the OpenAPI document for GET /customer-profile, in the vendor's camelCase wire format."""

from drf_spectacular.utils import OpenApiExample

ALLOWED = OpenApiExample(
    "Allowed",
    summary="Found, device unlocks, coupons applied",
    response_only=True,
    status_codes=["200"],
    value={
        "customerId": "C8M4Q2T7ZK1PA",
        "unlockingDevices": {"isAllowed": True},
        "firstName": "Alex",
        "lastName": "Muster",
        "email": "alex@example.com",
        "loyalty": {"id": "512345678903", "type": "gold", "pointsBalance": 1250},
        "coupons": [
            {"code": "BDAY-7KQ2M9XW", "title": "Birthday 10 %", "type": "percent", "value": 10,
             "validUntil": "2026-12-31T23:00:00Z"},
            {"code": "free-coffee", "title": "Free coffee for Gold", "type": "free_item", "productId": "SKU-COFFEE"},
        ],
        "spotCheckBias": -20,
        "preferredLocale": "de-DE",
    },
)  # fmt: skip

DENIED = OpenApiExample(
    "Denied",
    summary="Found, card blocked: device stays locked (message in the shopper's language)",
    response_only=True,
    status_codes=["200"],
    value={
        "customerId": "C8M4Q2T7ZK1PA",
        "unlockingDevices": {
            "isAllowed": False,
            "message": "Diese Karte ist gesperrt. Bitte wenden Sie sich an einen Mitarbeiter.",
        },
        "firstName": "Alex",
        "lastName": "Muster",
        "loyalty": {"id": "512345678903", "type": "gold", "pointsBalance": 1250},
        "spotCheckBias": 0,
        "preferredLocale": "de-DE",
    },
)

BAD_REQUEST = OpenApiExample(
    "MissingCard",
    summary="No card number sent",
    response_only=True,
    status_codes=["400"],
    value={
        "errorCode": "VALIDATION_ERROR",
        "errorMessage": "loyaltyCardNumber: Required: the scanned card number (or cardNumber, or customerId).",
    },
)

STORE_NOT_ALLOWED = OpenApiExample(
    "StoreNotAllowed",
    summary="The key is restricted to other stores",
    response_only=True,
    status_codes=["403"],
    value={"errorCode": "STORE_NOT_ALLOWED", "errorMessage": "storeId: This API key may not act for store HAM01."},
)
