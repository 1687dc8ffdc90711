"""Shapes of the events API (POST /api/v1/events and /api/v1/events/bulk), modelled on Antavo's Events API.

An event is `{"customer", "action", "data"}`; `data` is checked by the serializer of its action, and errors are
reported under `data.<field>` so that the message names the field. Serializers check shape and types only;
the services check the business rules.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer, extend_schema_serializer
from rest_framework import serializers

from crm.normalisation import normalise_phone
from crm.validators import validate_code, validate_language, validate_person_name, validate_plain_text
from loyalty.api.coupon_serializers import CouponOutputSerializer, CouponRedeemDataSerializer, cart_lines
from loyalty.services.events import Event

# The order is the one the documentation lists them in.
ACTIONS = (
    "opt_in",
    "opt_out",
    "profile",
    "checkout",
    "checkout_accept",
    "checkout_reject",
    "refund",
    "partial_refund",
    "point_add",
    "point_sub",
    "reserve_points",
    "release_points",
    "coupon_redeem",
)
MAX_BULK_EVENTS = 500
# A till's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know: a misspelt profile field would otherwise be dropped without a word."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


def _validate_phone(value: str) -> str:
    if value.strip() and normalise_phone(value, default_region=settings.PHONENUMBER_DEFAULT_REGION) is None:
        raise serializers.ValidationError(_("Not a phone number."))
    return value


def _text(max_length: int, *validators: Any, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=max_length, validators=list(validators), **kwargs
    )


class ProfileFieldsSerializer(StrictSerializer):
    """Customer fields, merged into the profile: what is not sent stays as it is; "" clears a text field.
    `source` maps our API names to the customer record's."""

    salutation = _text(32, validate_person_name)
    first_name = _text(100, validate_person_name)
    last_name = _text(100, validate_person_name)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    mobile_phone = _text(32, _validate_phone, source="phone_mobile")
    home_phone = _text(32, _validate_phone, source="phone_home")
    birth_date = serializers.DateField(required=False, allow_null=True, source="birthday")
    gender = _text(32, validate_plain_text)
    language = _text(16, validate_language, source="preferred_language")
    country = _text(64, validate_plain_text)
    postal_code = _text(20, validate_plain_text)

    def validate_birth_date(self, value: Any) -> Any:
        if value is not None and value > timezone.now().date():
            raise serializers.ValidationError(_("Cannot be in the future."))
        return value


class ProfileDataSerializer(ProfileFieldsSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(_("Give at least one profile field to change."))
        return attrs


class OptInDataSerializer(ProfileFieldsSerializer):
    """Profile fields of the member (merged into an existing customer's profile), and the enrolling store."""

    store_id = serializers.CharField(required=False, max_length=64, validators=[validate_code])


class OptOutDataSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TransactionIdField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=100, validators=[validate_plain_text], **kwargs)


class CheckoutItemSerializer(serializers.Serializer):
    product_id = serializers.CharField(max_length=100, validators=[validate_plain_text])
    product_name = _text(200, validate_plain_text)
    product_url = _text(500, validate_plain_text)
    category = _text(100, validate_plain_text)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False)
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), default=Decimal("1.000")
    )
    discount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), default=Decimal("0.00")
    )
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Without a subtotal the line is worth price x quantity - discount."""
        if "subtotal" in attrs:
            return attrs
        if "price" not in attrs:
            raise serializers.ValidationError({"subtotal": [_("Give the subtotal, or the price.")]})
        subtotal = (attrs["price"] * attrs["quantity"] - attrs["discount"]).quantize(Decimal("0.01"))
        if subtotal < 0:
            raise serializers.ValidationError({"discount": [_("The discount is larger than the line's price.")]})
        return {**attrs, "subtotal": subtotal}


class CheckoutDataSerializer(serializers.Serializer):
    transaction_id = TransactionIdField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    items: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=CheckoutItemSerializer(), required=False, max_length=500
    )
    points_burned = serializers.IntegerField(min_value=0, max_value=2_000_000_000, default=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, max_length=3)
    store_id = serializers.CharField(required=False, max_length=64, validators=[validate_code])
    channel = serializers.CharField(required=False, max_length=16, validators=[validate_code])
    purchased_at = serializers.DateTimeField(required=False)
    effective_timestamp = serializers.IntegerField(
        required=False, min_value=0, help_text="Unix time (seconds) of the purchase, as Antavo sends it."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "purchased_at" in attrs and "effective_timestamp" in attrs:
            raise serializers.ValidationError(
                {"effective_timestamp": [_("Give purchased_at or effective_timestamp, not both.")]}
            )
        if "effective_timestamp" in attrs:
            field = "effective_timestamp"
            try:
                attrs["purchased_at"] = datetime.fromtimestamp(attrs.pop("effective_timestamp"), tz=UTC)
            except (OverflowError, OSError, ValueError):
                # Past the year 9999 or the platform's time_t: the timestamp is not negative, so it is the future.
                raise serializers.ValidationError({field: [_("Cannot be in the future.")]}) from None
        else:
            field = "purchased_at"
        if attrs.get("purchased_at") and attrs["purchased_at"] > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError({field: [_("Cannot be in the future.")]})
        if "currency" in attrs:
            attrs["currency"] = attrs["currency"].upper()
        return attrs


class TransactionDataSerializer(serializers.Serializer):
    """checkout_accept, checkout_reject, refund, release_points."""

    transaction_id = TransactionIdField()


class PartialRefundDataSerializer(TransactionDataSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))


class PointsDataSerializer(serializers.Serializer):
    """point_add and point_sub."""

    points = serializers.IntegerField(min_value=1, max_value=2_000_000_000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ReservePointsDataSerializer(TransactionDataSerializer):
    points = serializers.IntegerField(min_value=1, max_value=2_000_000_000)


@extend_schema_serializer(component_name="CouponRedeemData")
class CouponRedeemEventDataSerializer(CouponRedeemDataSerializer):
    """coupon_redeem: the coupon's data, and the store of the till, as in checkout events."""

    store_id = serializers.CharField(required=False, max_length=64, validators=[validate_code])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Adds `lines`, the rules' cart lines of the cart (or of the amount, as one line)."""
        attrs = super().validate(attrs)
        return {**attrs, "lines": cart_lines(attrs["cart"] if "cart" in attrs else {"total": attrs["amount"]})}


DATA_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "opt_in": OptInDataSerializer,
    "opt_out": OptOutDataSerializer,
    "profile": ProfileDataSerializer,
    "checkout": CheckoutDataSerializer,
    "checkout_accept": TransactionDataSerializer,
    "checkout_reject": TransactionDataSerializer,
    "refund": TransactionDataSerializer,
    "partial_refund": PartialRefundDataSerializer,
    "point_add": PointsDataSerializer,
    "point_sub": PointsDataSerializer,
    "reserve_points": ReservePointsDataSerializer,
    "release_points": TransactionDataSerializer,
    "coupon_redeem": CouponRedeemEventDataSerializer,
}


class EventInputSerializer(serializers.Serializer):
    """The envelope of one event. `customer` is our public customer id; only opt_in may leave it out (it then
    signs a new customer up). Inside a bulk request an event may carry its own `idempotency_key`."""

    customer = serializers.CharField(required=False, allow_null=True, max_length=32)
    action = serializers.CharField(max_length=32)
    # A field, not Serializer.data (mypy takes it for an override): DRF's metaclass moves it out of the class.
    data = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]
    idempotency_key = serializers.CharField(required=False, max_length=255)

    def validate_action(self, value: str) -> str:
        if value not in ACTIONS:
            raise serializers.ValidationError(
                _('"%(action)s" is not a supported action. Supported actions: %(actions)s.')
                % {"action": value, "actions": ", ".join(ACTIONS)}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("customer") and attrs["action"] != "opt_in":
            raise serializers.ValidationError({"customer": [_("This field is required.")]})
        data = DATA_SERIALIZERS[attrs["action"]](data=attrs["data"])
        if not data.is_valid():
            raise serializers.ValidationError({"data": data.errors})
        if not attrs.get("customer") and not any(
            data.validated_data.get(name) for name in ("first_name", "last_name", "email", "phone_mobile")
        ):
            raise serializers.ValidationError(
                {"data": [_("To sign a new customer up, give an email, first name, last name or mobile phone.")]}
            )
        return {**attrs, "data": data.validated_data}


def event_from_payload(payload: Any, *, allow_idempotency_key: bool = False) -> Event:
    """Validate one event. Raises DRF ValidationError naming the field (`data.total: This field is required.`)."""
    serializer = EventInputSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    validated = serializer.validated_data
    if "idempotency_key" in validated and not allow_idempotency_key:
        raise serializers.ValidationError({"idempotency_key": [_("Send the key in the Idempotency-Key header.")]})
    return Event(
        action=validated["action"],
        customer=(validated.get("customer") or "").strip() or None,
        data=dict(validated["data"]),
        payload={name: payload.get(name) for name in ("customer", "action", "data")},
        idempotency_key=validated.get("idempotency_key", ""),
    )


class EventBulkInputSerializer(serializers.Serializer):
    """Each event is checked on its own, so that one malformed event fails alone."""

    events = serializers.ListField(child=serializers.JSONField(), allow_empty=False, max_length=MAX_BULK_EVENTS)


# Output shapes: the events API builds plain dicts (see loyalty.api.events.event_body); these document them.


class EventEntryOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Ledger entry id.")
    action = serializers.CharField(help_text="The action of the event that wrote the entry.")
    kind = serializers.ChoiceField(
        choices=["earn", "burn", "adjust", "refund", "reserve", "release", "expire", "confirm", "cancel"],
        help_text="What the entry did to the spendable points.",
    )
    points = serializers.IntegerField(help_text="Signed change of the spendable points.")
    expdate = serializers.DateField(allow_null=True, help_text="Expiry of the lot the points belong to, if any.")


class TransactionOutputSerializer(serializers.Serializer):
    """The purchase a checkout or refund event is about. Also used to render it."""

    transaction_id = serializers.CharField()
    state = serializers.CharField()
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    refunded_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    points_earned = serializers.IntegerField()
    points_burned = serializers.IntegerField()
    points_taken_back = serializers.IntegerField()
    points_returned = serializers.IntegerField()
    points_forgiven = serializers.IntegerField()
    store_id = serializers.CharField(source="store.code", allow_null=True, default=None)
    channel = serializers.CharField()
    purchased_at = serializers.DateTimeField()
    confirm_at = serializers.DateTimeField(allow_null=True, help_text="When pending points confirm, if pending.")


class CustomerSummaryOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Our public customer id.")
    status = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    language = serializers.CharField()
    state = serializers.ChoiceField(choices=["enrolled", "guest", "blocked"])
    account_number = serializers.CharField(required=False)
    currency = serializers.CharField(required=False)
    tier = serializers.CharField(required=False, allow_null=True)
    spendable = serializers.IntegerField(required=False)
    pending = serializers.IntegerField(required=False)
    reserved = serializers.IntegerField(required=False)
    spent = serializers.IntegerField(required=False)
    expired = serializers.IntegerField(required=False)
    score = serializers.IntegerField(required=False, help_text="Points earned and added, all time.")
    owed = serializers.IntegerField(required=False, help_text="Points the customer owes after refunds.")


class CouponRedemptionOutputSerializer(serializers.Serializer):
    """What a coupon_redeem event redeemed, besides the coupon: as POST /api/v1/coupons/redeem answers it."""

    transaction_id = serializers.CharField()
    store_id = serializers.CharField(allow_null=True, help_text="The store it was redeemed at, if one was given.")
    discount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="The discount it gave.")


class EventOutputSerializer(CustomerSummaryOutputSerializer):
    events = EventEntryOutputSerializer(
        many=True, help_text="Ledger entries that changed spendable points. [] while points are pending."
    )
    transaction = TransactionOutputSerializer(required=False, help_text="For checkout and refund actions.")
    coupon = CouponOutputSerializer(required=False, help_text="For coupon_redeem: the redeemed coupon.")
    redemption = CouponRedemptionOutputSerializer(
        required=False, help_text="For coupon_redeem: the transaction, store and discount of the redemption."
    )


class ErrorOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField()


class EventBulkResultOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the request, from 0.")
    status = serializers.IntegerField(help_text="The HTTP status POST /api/v1/events would have answered.")
    customer = serializers.CharField(required=False, help_text="Our public customer id (new ones from opt_in).")
    events = EventEntryOutputSerializer(many=True, required=False)
    transaction = TransactionOutputSerializer(required=False)
    coupon = CouponOutputSerializer(required=False)
    redemption = CouponRedemptionOutputSerializer(required=False)
    replayed = serializers.BooleanField(required=False, help_text="A replayed checkout or idempotency key.")
    error = ErrorOutputSerializer(required=False)


class EventBulkOutputSerializer(serializers.Serializer):
    results = EventBulkResultOutputSerializer(many=True)
    total = serializers.IntegerField()
    # A field, not Serializer.errors (mypy takes it for an override): DRF's metaclass moves it out of the class.
    errors = serializers.IntegerField()  # type: ignore[assignment]


# OpenAPI documentation: one request shape per action (a oneOf with `action` as discriminator), and examples.


def _documented_event(action: str, data: type[serializers.Serializer]) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in action.split("_")) + "Event"
    customer_help = (
        "Our public customer id; leave it out to sign a new customer up."
        if action == "opt_in"
        else "Our public customer id."
    )
    return type(
        name,
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__doc__": f"The {action} event.",
            "customer": serializers.CharField(required=action != "opt_in", help_text=customer_help),
            "action": serializers.ChoiceField(choices=[action]),
            "data": data(),
        },
    )


EVENT_REQUEST = PolymorphicProxySerializer(
    component_name="Event",
    serializers={action: _documented_event(action, DATA_SERIALIZERS[action]) for action in ACTIONS},
    resource_type_field_name="action",
)


class BulkEventSerializer(serializers.Serializer):
    customer = serializers.CharField(required=False)
    action = serializers.ChoiceField(choices=list(ACTIONS))
    # A field, not Serializer.data (mypy takes it for an override): DRF's metaclass moves it out of the class.
    data = serializers.DictField(help_text="As for POST /api/v1/events with this action.")  # type: ignore[assignment]
    idempotency_key = serializers.CharField(
        required=False, max_length=255, help_text="This event's Idempotency-Key (not for checkout)."
    )


class BulkEventsSerializer(serializers.Serializer):
    events: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=BulkEventSerializer(), max_length=MAX_BULK_EVENTS
    )


EVENT_DESCRIPTION = """\
Submit one event, Antavo style: `{"customer": "<our public id>", "action": "...", "data": {...}}`.

Actions: `opt_in` (enrol the customer; without `customer` a new customer is signed up from `data` and its id is
returned; an email already in use is 409), `opt_out` (the account becomes a guest, its points stay), `profile`
(merge the given fields into the profile), `checkout`, `checkout_accept`, `checkout_reject`, `refund`,
`partial_refund`, `point_add`, `point_sub`, `reserve_points`, `release_points`, `coupon_redeem` (redeem a coupon
code in the purchase `transaction_id` at the store `store_id` (optional), with the basket `amount` or the `cart`;
the answer adds `coupon` and `redemption` (`transaction_id`, `store_id`, `discount`), and `events` is [] since a
redemption moves no points. Idempotent on `transaction_id` like `POST /api/v1/coupons/redeem`: the same
redemption again answers the same; with a basket giving another discount, or from another store, it is 409
`ERR_TX_ALREADY_EXISTS`; another transaction id is 409 `COUPON_ALREADY_REDEEMED`). A key restricted to some stores
may not name another in `store_id` (403 `STORE_NOT_ALLOWED`), in any action, and must name one of its own in
`opt_in`, `checkout` and `coupon_redeem`, which record the store (403 `STORE_REQUIRED`, nothing written).

The answer is the customer summary plus `events`: the ledger entries that changed spendable points, each with
the expiry date of the points (`expdate`). Points still pending (inside the return window) are not in `events`;
they show in `pending`. Checkout and refund actions add `transaction`.

Idempotency: a checkout's `transaction_id` is its key; the same event again answers exactly the first response
(header `Idempotent-Replayed: true`) and writes nothing, and different content under the same id is 409
`ERR_TX_ALREADY_EXISTS`. Every other action honours an `Idempotency-Key` header, kept 24 hours: the same key and
body replays the stored response, the same key with another body is 409 `IDEMPOTENCY_KEY_REUSED`, and a
duplicate sent while the first is still running is 409 `IDEMPOTENCY_REQUEST_IN_PROGRESS`. Only successes are
stored: a refused request wrote nothing and may be retried with its key.

Errors are `{"message", "code", "extra"}`; bad input is 400 with a message naming the field
(`data.total: This field is required.`) and `extra.fields`.
"""

BULK_DESCRIPTION = """\
Submit up to 500 events, for instance a till's offline queue. Events are processed in order, each in its own
transaction: a refused event fails alone, with the status and error POST /api/v1/events would have answered.
Checkouts are idempotent by `transaction_id`, so a batch posted twice counts each purchase once; other events may
carry their own `idempotency_key`. More than 500 events, or `events` not a list, is a 400 for the whole request
and nothing is written.
"""

_SUMMARY = {
    "id": "C8M4Q2T7ZK1PA",
    "status": "active",
    "first_name": "Sally",
    "last_name": "Thompson",
    "email": "sally@example.com",
    "language": "en",
    "state": "enrolled",
    "account_number": "512345678903",
    "currency": "USD",
    "tier": "member",
    "spendable": 180,
    "pending": 0,
    "reserved": 0,
    "spent": 20,
    "expired": 0,
    "score": 200,
    "owed": 0,
}
_CHECKOUT = {
    "customer": "C8M4Q2T7ZK1PA",
    "action": "checkout",
    "data": {
        "transaction_id": "5875-9373-2618-7461-9237",
        "total": "100.00",
        "points_burned": 20,
        "store_id": "S001",
        "items": [
            {"product_id": "443", "product_name": "Black jeans", "price": "55.00", "quantity": 1, "discount": "5.00"},
            {"product_id": "543", "product_name": "Blue jeans", "subtotal": "50.00"},
        ],
    },
}
_CHECKOUT_RESPONSE = {
    **_SUMMARY,
    "events": [
        {"id": "1041", "action": "checkout", "kind": "burn", "points": -20, "expdate": "2027-06-24"},
        {"id": "1042", "action": "checkout", "kind": "earn", "points": 100, "expdate": "2027-06-24"},
    ],
    "transaction": {
        "transaction_id": "5875-9373-2618-7461-9237",
        "state": "accepted",
        "currency": "USD",
        "total": "100.00",
        "refunded_total": "0.00",
        "points_earned": 100,
        "points_burned": 20,
        "points_taken_back": 0,
        "points_returned": 0,
        "points_forgiven": 0,
        "store_id": "S001",
        "channel": "",
        "purchased_at": "2026-06-24T10:15:00Z",
        "confirm_at": None,
    },
}
_ERROR = {
    "message": "data.total: This field is required.",
    "code": "validation_error",
    "extra": {"fields": {"data.total": ["This field is required."]}},
}

EVENT_EXAMPLES = [
    OpenApiExample(
        "Sign a new customer up",
        value={
            "action": "opt_in",
            "data": {"email": "sally@example.com", "first_name": "Sally", "last_name": "Thompson", "language": "en"},
        },
        request_only=True,
    ),
    OpenApiExample("Checkout with items, burning points", value=_CHECKOUT, request_only=True),
    OpenApiExample(
        "Take points away",
        value={"customer": "C8M4Q2T7ZK1PA", "action": "point_sub", "data": {"points": 50, "reason": "Goodwill fix"}},
        request_only=True,
    ),
    OpenApiExample(
        "Partial refund",
        value={
            "customer": "C8M4Q2T7ZK1PA",
            "action": "partial_refund",
            "data": {"transaction_id": "5875-9373-2618-7461-9237", "amount": "50.00"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Redeem a coupon",
        value={
            "customer": "C8M4Q2T7ZK1PA",
            "action": "coupon_redeem",
            "data": {
                "code": "WELCOME-7KQ4-M2XR",
                "transaction_id": "5875-9373-2618-7461-9237",
                "store_id": "S001",
                "channel": "pos",
                "amount": "100.00",
            },
        },
        request_only=True,
    ),
    OpenApiExample("Checkout answer", value=_CHECKOUT_RESPONSE, response_only=True, status_codes=["200"]),
    OpenApiExample(
        "Coupon redeemed answer",
        value={
            **_SUMMARY,
            "events": [],
            "coupon": {
                "code": "WELCOME-7KQ4-M2XR",
                "status": "redeemed",
                "type": "percent",
                "value": "10.00",
                "currency": "USD",
                "name": "Welcome_10",
                "created_at": "2026-05-02T12:42:58Z",
                "claimed_at": "2026-05-02T12:42:58Z",
                "redeemed_at": "2026-06-24T10:15:00Z",
                "expires_at": "2026-07-16T21:59:00Z",
                "channels": ["pos", "scan_and_go", "web"],
                "auto_apply": False,
            },
            "redemption": {"transaction_id": "5875-9373-2618-7461-9237", "store_id": "S001", "discount": "10.00"},
        },
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample("Missing field", value=_ERROR, response_only=True, status_codes=["400"]),
    OpenApiExample(
        "Duplicate transaction id",
        value={
            "message": "Transaction 5875-9373-2618-7461-9237 already exists with different content.",
            "code": "ERR_TX_ALREADY_EXISTS",
            "extra": {"field": "transaction_id"},
        },
        response_only=True,
        status_codes=["409"],
    ),
]

BULK_EXAMPLES = [
    OpenApiExample(
        "An offline queue",
        value={
            "events": [
                _CHECKOUT,
                {"customer": "C8M4Q2T7ZK1PA", "action": "checkout", "data": {"transaction_id": "T-2"}},
                {
                    "customer": "C8M4Q2T7ZK1PA",
                    "action": "point_add",
                    "data": {"points": 25, "reason": "Birthday"},
                    "idempotency_key": "till-7-0042",
                },
            ]
        },
        request_only=True,
    ),
    OpenApiExample(
        "Results per event",
        value={
            "results": [
                {
                    "index": 0,
                    "status": 200,
                    "customer": "C8M4Q2T7ZK1PA",
                    "events": _CHECKOUT_RESPONSE["events"],
                    "transaction": _CHECKOUT_RESPONSE["transaction"],
                    "replayed": False,
                },
                {"index": 1, "status": 400, "error": _ERROR},
                {
                    "index": 2,
                    "status": 200,
                    "customer": "C8M4Q2T7ZK1PA",
                    "events": [{"id": "1043", "action": "point_add", "kind": "adjust", "points": 25, "expdate": None}],
                    "replayed": False,
                },
            ],
            "total": 3,
            "errors": 1,
        },
        response_only=True,
        status_codes=["200"],
    ),
]

_ERROR_STATUSES = {
    400: "Bad input, naming the field.",
    401: "No or an invalid API key.",
    403: "The key lacks the loyalty:write scope.",
    429: "throttled: the key's rate limit is spent; Retry-After says in how many seconds to try again.",
}


def _errors(statuses: dict[int, str]) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorOutputSerializer, description=text) for status, text in statuses.items()}


def event_responses(output: type[serializers.Serializer]) -> dict[int, Any]:
    return {
        200: output,
        **_errors(
            {
                **_ERROR_STATUSES,
                403: (
                    "The key lacks the loyalty:write scope; STORE_NOT_ALLOWED: it may not act for the store in "
                    "data.store_id; STORE_REQUIRED: it is restricted to some stores and the event names none."
                ),
                404: "Unknown customer, transaction or coupon code.",
                409: (
                    "ERR_TX_ALREADY_EXISTS, INSUFFICIENT_POINTS, NOT_ENROLLED, EMAIL_ALREADY_IN_USE, idempotency, "
                    "COUPON_ALREADY_REDEEMED, COUPON_CANCELLED, COUPON_EXPIRED."
                ),
                410: "The customer's personal data was erased.",
                422: "A refund larger than what is left to refund; COUPON_NOT_ELIGIBLE (extra.reasons).",
            }
        ),
    }


def bulk_responses(output: type[serializers.Serializer]) -> dict[int, Any]:
    return {200: output, **_errors({**_ERROR_STATUSES, 409: "Idempotency-Key reused or in progress."})}
