"""OpenAPI descriptions and examples of the Antavo adapter: Antavo's published requests (the in-store retail
integration guide, shared/seeds/003_*) and what this adapter answers to them."""

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer
from rest_framework import serializers

from compat.antavo.serializers import CUSTOMER_ID_MAX_LENGTH
from loyalty.api.event_serializers import ACTIONS, DATA_SERIALIZERS

CUSTOMER_ID = "a222e90f-2c59-468d-9b81-62f560084379"

OPT_IN = {
    "customer": CUSTOMER_ID,
    "action": "opt_in",
    "data": {"email": "sally@example.com", "first_name": "Sally", "last_name": "Thompson"},
}
CHECKOUT = {
    "customer": CUSTOMER_ID,
    "action": "checkout",
    "data": {
        "transaction_id": "5875-9373-2618-7461-9237",
        "total": 100,
        "points_burned": 20,
        "items": [
            {
                "product_id": "443",
                "product_name": "Black jeans",
                "product_url": "https://www.example.com/black-jeans",
                "price": 55,
                "quantity": 1,
                "discount": 5,
                "subtotal": 50,
            },
            {
                "product_id": "543",
                "product_name": "Blue jeans",
                "product_url": "https://www.example.com/blue-jeans",
                "price": 50,
                "quantity": 1,
                "discount": 0,
                "subtotal": 50,
            },
        ],
    },
}
ACCOUNT = {"id": "main", "name": "Main program"}
CHECKOUT_RESPONSE = {
    "id": CUSTOMER_ID,
    "created_at": 1719252448,
    "email": "sally@example.com",
    "first_name": "Sally",
    "last_name": "Thompson",
    "status": "active",
    "language": "en",
    "image_url": None,
    "currency": "GBP",
    "score": 608,
    "spendable": 588,
    "pending": 0,
    "reserved": 0,
    "spent": 20,
    "expired": 0,
    "events": [
        {"id": "1041", "action": "point_spend", "points": -20, "expdate": "2025-06-24", "account": ACCOUNT},
        {"id": "1042", "action": "checkout", "points": 100, "expdate": "2025-06-24", "account": ACCOUNT},
    ],
}
ERROR_NOT_FOUND = {
    "error": {
        "type": "NotFoundException",
        "code": 160212,
        "message": "Customer not found",
        "reason": "CUSTOMER_NOT_FOUND",
    }
}
COUPON = {
    "code": "COUPON-123456",
    "status": "claimed",
    "type": "percentage",
    "value": 10.0,
    "currency": "GBP",
    "name": "Welcome_10",
    "pool": "welcome-10",
    "created_at": "2024-05-02T12:42:58+00:00",
    "claimed_at": "2024-05-02T12:42:58+00:00",
    "redeemed_at": None,
    "expires_at": "2024-05-16T21:59:00+00:00",
}

EVENT_DESCRIPTION = f"""\
Antavo's Events API: `{{"customer": "<Antavo customer id>", "action": "...", "data": {{...}}}}`, the API key as
`?api_key=`, in the body (`"api_key": "..."`) or as the Escher credential. The customer id is the till's own, up
to {CUSTOMER_ID_MAX_LENGTH} characters (a UUID, say); `opt_in` with an id no customer has yet creates the customer
and enrols them, and later events with that id act on that customer.

Actions: {", ".join(f"`{action}`" for action in ACTIONS)}; `data` holds the same attributes as in
`POST /api/v1/events`. A checkout's `transaction_id` is its idempotency key: the same checkout again answers the
first response and writes nothing; other content under the same id is 409 `ERR_TX_ALREADY_EXISTS`.

The answer is the customer (Unix `created_at`) and `events`: the ledger entries that changed spendable points, with
`expdate` and the points `account`; points a checkout burned are `point_spend`. While a checkout's points are
pending (inside the return window), `events` is `[]`. Errors are `{{"error": {{"type", "code", "message"}}}}`
with Antavo's numbers where it publishes one (160212 Customer not found) and `reason`, our code.
"""

BULK_DESCRIPTION = """\
`{"events": [...]}`, up to 500 events, processed one by one in order, each in its own transaction. The answer lists
per event its `events` (`id`, `action`, `points`) or its `error`, with `total` and `errors` counts. A non-2xx
status only when the request as a whole is invalid.
"""

CUSTOMER_DESCRIPTION = """\
Antavo's Customer object: profile, `status` (`active`, `inactive` never enrolled, `opted_out`, `banned`), balances
(`score` points ever earned, `spendable`, `pending`, `reserved`, `spent`, `expired`), `tiers[]` (`id` the tier code,
`structure` the program, `threshold`, `points`, `points_after_expiration`: the qualifying value still counting on
the tier's expiry date, `since`/`expdate` ISO 8601, `next`), `accounts[]` (the one points account with its burn
rate), Unix `optin_at` and `updated_at`, `purchase_count`, `purchase_total`, `purchase_last_date`, `properties`.
"""

COUPONS_DESCRIPTION = """\
The customer's coupons, newest first: `code`, `status` (`claimed`, `redeemed`, `expired`, `invalid`), `type`
(`percentage`, `amount`, `free_item`), `value`, `currency`, `name`, `pool` (the coupon's code), ISO 8601 times.
Filters: `code`, `name`, `status`, `type`, `value`. At most 500.
"""


def _documented_event(action: str) -> type[serializers.Serializer]:
    name = "Antavo" + "".join(part.title() for part in action.split("_")) + "Event"
    return type(
        name,
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__doc__": f"Antavo's {action} event.",
            "customer": serializers.CharField(max_length=CUSTOMER_ID_MAX_LENGTH, help_text="Antavo's customer id."),
            # A string rather than a one-value enum: the loyalty API documents these enums already.
            "action": serializers.CharField(help_text=f'"{action}"'),
            "data": DATA_SERIALIZERS[action](),
            "api_key": serializers.CharField(
                required=False, help_text="The API key, as Antavo's Magento module sends it."
            ),
            "account": serializers.CharField(required=False, max_length=64, help_text="Accepted, not used."),
        },
    )


EVENT_REQUEST = PolymorphicProxySerializer(
    component_name="AntavoEvent",
    serializers={action: _documented_event(action) for action in ACTIONS},
    resource_type_field_name="action",
)

EVENT_EXAMPLES = [
    OpenApiExample("Enrol a customer at the till (Antavo's example)", value=OPT_IN, request_only=True),
    OpenApiExample("Checkout with items (Antavo's example)", value=CHECKOUT, request_only=True),
    OpenApiExample("Checkout answer", value=CHECKOUT_RESPONSE, response_only=True, status_codes=["200"]),
    OpenApiExample("Unknown customer", value=ERROR_NOT_FOUND, response_only=True, status_codes=["404"]),
]

BULK_EXAMPLES = [
    OpenApiExample("An offline queue", value={"events": [OPT_IN, CHECKOUT]}, request_only=True),
    OpenApiExample(
        "Results per event",
        value={
            "results": [
                {"events": []},
                {
                    "events": [
                        {"id": "1041", "action": "point_spend", "points": -20},
                        {"id": "1042", "action": "checkout", "points": 100},
                    ]
                },
            ],
            "total": 2,
            "errors": 0,
        },
        response_only=True,
        status_codes=["200"],
    ),
]

CUSTOMER_EXAMPLE = OpenApiExample(
    "A silver member",
    value={
        "id": CUSTOMER_ID,
        "first_name": "Sally",
        "last_name": "Thompson",
        "email": "sally@example.com",
        "mobile_phone": "",
        "gender": "female",
        "birth_date": "1989-05-02",
        "language": "en",
        "country": "UK",
        "currency": "GBP",
        "status": "active",
        "score": 15673,
        "spendable": 4556,
        "pending": 320,
        "reserved": 0,
        "spent": 11117,
        "expired": 0,
        "image_url": None,
        "membership_id": ["512345678903"],
        "optin_at": 1657106644,
        "last_login_at": None,
        "updated_at": 1718739663,
        "purchase_count": 7,
        "purchase_total": 656.0,
        "purchase_last_date": "2024-06-19",
        "properties": {"allergies": "lactose"},
        "tiers": [
            {
                "id": "silver",
                "name": "Silver",
                "structure": {"id": "main", "name": "Main program"},
                "threshold": 300,
                "points": 16287,
                "points_after_expiration": 815,
                "since": "2023-06-01T12:13:25+00:00",
                "expdate": "2024-06-01T12:13:25+00:00",
                "next": {"id": "gold", "name": "Gold", "points": 3713},
            }
        ],
        "accounts": [
            {
                "id": "main",
                "name": "Main program",
                "earned": 15673,
                "spent": 11117,
                "pending": 320,
                "reserved": 0,
                "expired": 0,
                "spendable": 4556,
                "burn_rates": [
                    {"points": 1, "amount": 0.01, "currency": "GBP", "converted_amount": 45.56, "unconverted_points": 0}
                ],
            }
        ],
    },
    response_only=True,
    status_codes=["200"],
)
NOT_FOUND_EXAMPLE = OpenApiExample("Unknown customer", value=ERROR_NOT_FOUND, response_only=True, status_codes=["404"])
