"""Examples shown in the OpenAPI document for the Clienteling SPI, in the real camelCase wire format."""

from typing import Any

from drf_spectacular.utils import OpenApiExample

_ADDRESS = {
    "addressLine1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "postalCode": "62701",
    "countryCode": "US",
}
_NEW_ADDRESS = {
    "addressLine1": "500 Oak Avenue",
    "addressLine2": "Apt 4",
    "city": "Chicago",
    "state": "IL",
    "postalCode": "60601",
    "countryCode": "US",
}
_CUSTOMER: dict[str, Any] = {
    "profile": {
        "customerId": "C8M4Q2T7ZK1PA",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "phoneMobile": "+12175550100",
        "birthday": 345427200000,
        "loyaltyId": "512345678903",
        "address": {"addressId": "A3XW9KQ0RB2MT", **_ADDRESS},
        "createdDate": 1763769600000,
        "lastModifiedDate": 1763769600000,
    },
    "consents": {"agreeToTC": True, "loyaltySignUp": True, "eReceipt": True, "smsSignUp": False},
    "addressList": [{"addressId": "A3XW9KQ0RB2MT", **_ADDRESS}],
    "loyaltyProfile": {
        "accountNumber": "512345678903",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "address": {"addressId": "A3XW9KQ0RB2MT", **_ADDRESS},
        "currentPoints": 0,
        "currentStoreCredit": 0.0,
        "currentTier": {"name": "Member", "title": "Member", "subTitle": "Welcome", "startDate": 1763769600000},
        "enrollmentDate": 1763769600000,
        "coupons": [
            {
                "code": "WELCOME-7KQ4-M2XR-9PWD-HV3N",
                "title": "Welcome 10 %",
                "type": "percent",
                "value": 10.0,
                "status": "issued",
                "autoApply": True,
                "issuedDate": 1763769600000,
                "expiryDate": 1767225600000,
            }
        ],
    },
    "storeAttribution": {"storeId": "S001", "associateId": "A042"},
    "orderCount": 0,
    "orderList": [],
}

CREATE_REQUEST = OpenApiExample(
    "Sign-up with loyalty consent",
    request_only=True,
    value={
        "customer": {
            "profile": {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": "Ada@Example.com",
                "phoneMobile": "(217) 555-0100",
                "birthday": "1980-12-10",
                "address": _ADDRESS,
            },
            "consents": {"agreeToTC": True, "loyaltySignUp": True, "eReceipt": True, "smsSignUp": False},
            "storeAttribution": {"storeId": "S001", "associateId": "A042"},
        }
    },
)
CREATE_RESPONSE = OpenApiExample("Customer", response_only=True, status_codes=["200"], value={"customer": _CUSTOMER})
UPDATE_REQUEST = OpenApiExample(
    "Profile address edited from Customer 360",
    request_only=True,
    value={"customer": {"profile": {"customerId": "C8M4Q2T7ZK1PA", "address": _NEW_ADDRESS}}},
)
_UPDATED = {
    **_CUSTOMER,
    "profile": {**_CUSTOMER["profile"], "address": {"addressId": "A7PC2D9EWQ4NB", **_NEW_ADDRESS}},
    "addressList": [
        {"addressId": "A3XW9KQ0RB2MT", **_ADDRESS},
        {"addressId": "A7PC2D9EWQ4NB", **_NEW_ADDRESS},
    ],
    "loyaltyProfile": {
        **_CUSTOMER["loyaltyProfile"],
        "address": {"addressId": "A7PC2D9EWQ4NB", **_NEW_ADDRESS},
    },
}
UPDATE_RESPONSE = OpenApiExample(
    "Updated customer", response_only=True, status_codes=["200"], value={"customer": _UPDATED}
)
SEARCH_RESPONSE = OpenApiExample(
    "Search results", response_only=True, status_codes=["200"], value={"customers": [_CUSTOMER]}
)
ERROR_RESPONSE = OpenApiExample(
    "Validation error",
    response_only=True,
    status_codes=["400"],
    value={"errorCode": "VALIDATION_ERROR", "errorMessage": "profile.email: Enter a valid email address."},
)
CREATE_WITH_CARD_REQUEST = OpenApiExample(
    "Sign-up with a pre-printed loyalty card",
    description="The card number keyed in at the till becomes profile.loyaltyId and loyaltyProfile.accountNumber.",
    request_only=True,
    value={
        "customer": {
            "profile": {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": "ada@example.com",
                "loyaltyId": "400000000099",
            },
            "consents": {"agreeToTC": True, "loyaltySignUp": True},
        }
    },
)
LOYALTY_CONSENT_WITHDRAWN_REQUEST = OpenApiExample(
    "Loyalty consent withdrawn",
    description="The member becomes a guest: loyaltyProfile and profile.loyaltyId are left out of the response, the "
    "account stays for its ledger; loyaltySignUp: true again re-enrols the same account.",
    request_only=True,
    value={"customer": {"profile": {"customerId": "C8M4Q2T7ZK1PA"}, "consents": {"loyaltySignUp": False}}},
)
LOYALTY_ID_INVALID_RESPONSE = OpenApiExample(
    "Loyalty card number with a wrong check digit",
    response_only=True,
    status_codes=["400"],
    value={
        "errorCode": "INVALID_CARD_NUMBER",
        "errorMessage": "profile.loyaltyId: Not a card number of this program: its last digit is a check digit, and it "
        "does not match.",
    },
)
LOYALTY_ID_IN_USE_RESPONSE = OpenApiExample(
    "Loyalty card number held by another customer",
    response_only=True,
    status_codes=["409"],
    value={
        "errorCode": "LOYALTY_ID_ALREADY_IN_USE",
        "errorMessage": "profile.loyaltyId: This loyalty card number is already in use.",
    },
)
LOYALTY_ID_NOT_ACCEPTED_RESPONSE = OpenApiExample(
    "The program issues its own card numbers",
    response_only=True,
    status_codes=["422"],
    value={
        "errorCode": "LOYALTY_ID_NOT_ACCEPTED",
        "errorMessage": "profile.loyaltyId: This loyalty program issues its own card numbers: send the request "
        "without a loyalty id, and the customer's new number comes back in the response.",
    },
)
NOT_FOUND_RESPONSE = OpenApiExample(
    "Unknown customer",
    response_only=True,
    status_codes=["404"],
    value={"errorCode": "CUSTOMER_NOT_FOUND", "errorMessage": "Customer not found."},
)

# ------------------------------------------------------------------------------------- Customer Address SPI

_SHIPPING_ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "addressLine1": "12 Harbour Road",
    "city": "Peoria",
    "state": "IL",
    "postalCode": "61602",
    "countryCode": "US",
}
_WITH_SHIPPING_ADDRESS = {
    **_CUSTOMER,
    "addressList": [
        {"addressId": "A3XW9KQ0RB2MT", **_ADDRESS},
        {"addressId": "A9F0QH2KZT6MC", **_SHIPPING_ADDRESS},
    ],
}
_CORRECTED_ADDRESS = {**_ADDRESS, "addressLine1": "1 Main Street", "addressLine2": "Unit 2"}
_WITH_CORRECTED_ADDRESS = {
    **_CUSTOMER,
    "profile": {**_CUSTOMER["profile"], "address": {"addressId": "A3XW9KQ0RB2MT", **_CORRECTED_ADDRESS}},
    "addressList": [{"addressId": "A3XW9KQ0RB2MT", **_CORRECTED_ADDRESS}],
    "loyaltyProfile": {
        **_CUSTOMER["loyaltyProfile"],
        "address": {"addressId": "A3XW9KQ0RB2MT", **_CORRECTED_ADDRESS},
    },
}
_WITHOUT_ADDRESS = {
    **_CUSTOMER,
    "profile": {key: value for key, value in _CUSTOMER["profile"].items() if key != "address"},
    "addressList": [],
    "loyaltyProfile": {key: value for key, value in _CUSTOMER["loyaltyProfile"].items() if key != "address"},
}

ADDRESS_LIST_RESPONSE = OpenApiExample(
    "The customer's addresses", response_only=True, status_codes=["200"], value={"customer": _WITH_SHIPPING_ADDRESS}
)
ADDRESS_CREATE_REQUEST = OpenApiExample(
    "A shipping address saved at checkout",
    request_only=True,
    value={"customerId": "C8M4Q2T7ZK1PA", "address": _SHIPPING_ADDRESS, "storeAttribution": {"storeId": "S001"}},
)
ADDRESS_CREATE_RESPONSE = OpenApiExample(
    "The customer with the new address",
    response_only=True,
    status_codes=["200"],
    value={"customer": _WITH_SHIPPING_ADDRESS},
)
ADDRESS_UPDATE_REQUEST = OpenApiExample(
    "The profile address corrected",
    request_only=True,
    value={
        "customerId": "C8M4Q2T7ZK1PA",
        "address": {"addressId": "A3XW9KQ0RB2MT", "addressLine1": "1 Main Street", "addressLine2": "Unit 2"},
    },
)
ADDRESS_UPDATE_RESPONSE = OpenApiExample(
    "The address changed in place",
    response_only=True,
    status_codes=["200"],
    value={"customer": _WITH_CORRECTED_ADDRESS},
)
ADDRESS_DELETE_RESPONSE = OpenApiExample(
    "The profile address removed", response_only=True, status_codes=["200"], value={"customer": _WITHOUT_ADDRESS}
)
ADDRESS_ERROR_RESPONSE = OpenApiExample(
    "A country name instead of a code",
    response_only=True,
    status_codes=["400"],
    value={
        "errorCode": "VALIDATION_ERROR",
        "errorMessage": "address.country: Send an ISO 3166 country code (two or three letters), for example in "
        "countryCode.",
    },
)
ADDRESS_NOT_FOUND_RESPONSE = OpenApiExample(
    "Unknown address",
    response_only=True,
    status_codes=["404"],
    value={
        "errorCode": "ADDRESS_NOT_FOUND",
        "errorMessage": "addressId: No such address for this customer: A0000000000.",
    },
)
