"""Antavo's shapes: the Events API envelope it accepts, and the event response, customer and coupons it answers
(reference A4, A5.1, A8.3). Input serializers check shape and types; what an action's `data` may hold is the loyalty
events API's data serializer for that action (the same actions, modelled on Antavo's). The bodies are built as
plain dicts by the `*_body` functions; the output serializers document them for OpenAPI.

Customers are named by Antavo's customer id, a string of up to 128 characters the till supplies (often a UUID),
kept in crm.ExternalCustomerId under the source "antavo" (COMPAT_ANTAVO_CUSTOMER_ID_SOURCE). Unix timestamps where
Antavo sends numbers (`created_at`, `optin_at`, `updated_at`), ISO 8601 with an offset where it sends strings (tier
`since`/`expdate`, coupon times).
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import Customer
from crm.validators import validate_plain_text
from loyalty.api.event_serializers import ACTIONS, DATA_SERIALIZERS
from loyalty.models import CouponDefinition, LoyaltyAccount, PointsEntry, Program, Voucher
from loyalty.selectors.accounts import CustomerOverview, TierStatus
from loyalty.services.events import Event, EventResult


def customer_id_source() -> str:
    """The crm.ExternalCustomerId source of Antavo's customer ids (COMPAT_ANTAVO_CUSTOMER_ID_SOURCE, "antavo")."""
    return settings.COMPAT_ANTAVO_CUSTOMER_ID_SOURCE


CUSTOMER_ID_MAX_LENGTH = 128
# Antavo designs bulk for 50 events and does not refuse more; we take as many as /api/v1/events/bulk does.
MAX_BULK_EVENTS = 500

Body = dict[str, Any]


# ------------------------------------------------------------------------------------------------------- input


class CustomerIdField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=CUSTOMER_ID_MAX_LENGTH, validators=[validate_plain_text], **kwargs)


class AntavoEventInputSerializer(serializers.Serializer):
    """One event as Antavo's Events API takes it. `api_key` (sent in the body by Antavo's Magento module) is the
    authentication's; `account` (a points account) and `external_id` are accepted and not used: every customer
    here has one points account, and the customer id always names an Antavo id."""

    customer = CustomerIdField(help_text="Antavo's customer id: up to 128 characters, e.g. a UUID.")
    action = serializers.CharField(max_length=32)
    # A field, not Serializer.data (mypy takes it for an override): DRF's metaclass moves it out of the class.
    data = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]
    account = serializers.CharField(required=False, max_length=64)

    def validate_action(self, value: str) -> str:
        if value not in ACTIONS:
            raise serializers.ValidationError(
                _('"%(action)s" is not a supported action. Supported actions: %(actions)s.')
                % {"action": value, "actions": ", ".join(ACTIONS)}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = DATA_SERIALIZERS[attrs["action"]](data=attrs["data"])
        if not data.is_valid():
            raise serializers.ValidationError({"data": data.errors})
        return {**attrs, "data": data.validated_data}


def event_from_antavo_payload(payload: Any) -> Event:
    """Validate one Antavo event. Raises DRF ValidationError naming the field."""
    if not isinstance(payload, dict):
        raise serializers.ValidationError({"non_field_errors": [_("An event is a JSON object.")]})
    serializer = AntavoEventInputSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    validated = serializer.validated_data
    return Event(
        action=validated["action"],
        customer=validated["customer"].strip(),
        data=dict(validated["data"]),
        payload={name: payload.get(name) for name in ("customer", "action", "data")},
        customer_source=customer_id_source(),
    )


class AntavoEventBulkInputSerializer(serializers.Serializer):
    """Each event is checked on its own, so that one malformed event fails alone."""

    events = serializers.ListField(child=serializers.JSONField(), allow_empty=False, max_length=MAX_BULK_EVENTS)


class AntavoCustomerCouponsInputSerializer(serializers.Serializer):
    """Antavo's coupon filters. `status` and `type` take Antavo's values."""

    code = serializers.CharField(required=False, max_length=80, validators=[validate_plain_text])
    name = serializers.CharField(required=False, max_length=200, validators=[validate_plain_text])
    status = serializers.ChoiceField(required=False, choices=["claimed", "redeemed", "expired", "invalid"])
    type = serializers.ChoiceField(required=False, choices=["percentage", "percent", "amount", "free_item"])
    value = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"))


# ------------------------------------------------------------------------------------------------ value mapping


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with an explicit UTC offset, as Antavo writes its date-times (`2024-05-16T21:59:00+00:00`)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment is not None else None


def number(value: int | Decimal) -> int | float:
    """A JSON number: points stay integers, money becomes a float (Antavo sends plain numbers)."""
    return value if isinstance(value, int) else float(value)


def antavo_status(customer: Customer, account: LoyaltyAccount | None) -> str:
    """Antavo's customer status (`active`, `inactive`, `opted_out`, `banned`): a blocked customer or account is
    banned, an opted-out (guest) account opted_out, a customer who never enrolled inactive."""
    if customer.status == Customer.Status.BLOCKED:
        return "banned"
    if account is None:
        return "inactive"
    return {
        LoyaltyAccount.State.ENROLLED: "active",
        LoyaltyAccount.State.GUEST: "opted_out",
        LoyaltyAccount.State.BLOCKED: "banned",
    }[LoyaltyAccount.State(account.state)]


def points_account(program: Program) -> Body:
    """Antavo's points account reference: here the program (every customer has one account in it)."""
    return {"id": program.code, "name": program.name}


# ------------------------------------------------------------------------------------------------------ events


def _event_action(action: str, entry: PointsEntry) -> str:
    # Points a checkout burns are Antavo's point_spend; every other entry is the event's own action.
    return "point_spend" if action == "checkout" and entry.kind == PointsEntry.Kind.BURN else action


def _expdate(entry: PointsEntry) -> str | None:
    expires_at = entry.expires_at if entry.is_lot else (entry.lot.expires_at if entry.lot else None)
    return expires_at.astimezone(UTC).date().isoformat() if expires_at else None


def antavo_event_body(result: EventResult) -> Body:
    """Antavo's Event_response without `id` (the view puts the customer id the till sent first): the customer and
    the events that changed spendable points. While points are pending there are none, as in Antavo. Only plain
    JSON values: a checkout's first response is stored as JSON with the purchase and answered again to replays."""
    customer, account, balances = result.customer, result.account, result.balances
    body: Body = {
        "created_at": unix(customer.created_at),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "status": antavo_status(customer, account),
        "language": customer.preferred_language,
        "image_url": None,
    }
    if account is not None and balances is not None:
        body.update(
            {
                "currency": account.program.currency,
                "score": balances.earned,
                "spendable": balances.spendable,
                "pending": balances.pending,
                "reserved": balances.reserved,
                "spent": balances.spent,
                "expired": balances.expired,
            }
        )
    account_ref = points_account(account.program) if account is not None else None
    body["events"] = [
        {
            "id": str(entry.pk),
            "action": _event_action(result.action, entry),
            "points": entry.points,
            "expdate": _expdate(entry),
            "account": account_ref,
        }
        for entry in result.entries
    ]
    return body


def antavo_bulk_result(body: Body) -> Body:
    """One successful event of a bulk, as Antavo lists it: its events."""
    return {"events": [{name: event[name] for name in ("id", "action", "points")} for event in body["events"]]}


# ---------------------------------------------------------------------------------------------------- customer


def _tier(status: TierStatus, program: Program, points_after_expiration: int | Decimal) -> Body:
    tier: Body = {
        "id": status.tier.code,
        "name": status.tier.name,
        "structure": {"id": program.code, "name": program.name},
        "threshold": number(status.threshold),
        "points": number(status.points),
        "points_after_expiration": number(points_after_expiration),
        "since": iso(status.since),
        "expdate": iso(status.expdate),
    }
    if status.next is not None:
        tier["next"] = {"id": status.next.tier.code, "name": status.next.tier.name, "points": number(status.next.gap)}
    return tier


def antavo_customer_body(overview: CustomerOverview, *, customer_id: str, last_purchase: date | None) -> Body:
    """Antavo's Customer object (reference A5.1) from the 360 view with the `renewal` embed: `points_after_expiration`
    is the qualifying value that still counts on the tier's expiry date (the current value for a tier that does not
    expire). `accounts[]` is the one points account, with the program's burn rate."""
    customer, account, balances = overview.customer, overview.account, overview.balances
    updated = max(customer.updated_at, account.updated_at) if account is not None else customer.updated_at
    body: Body = {
        "id": customer_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "mobile_phone": customer.phone_mobile,
        "gender": customer.gender,
        "birth_date": customer.birthday.isoformat() if customer.birthday else None,
        "language": customer.preferred_language,
        "country": customer.country,
        "currency": overview.currency,
        "status": antavo_status(customer, account),
        "score": balances.earned,
        "spendable": balances.spendable,
        "pending": balances.pending,
        "reserved": balances.reserved,
        "spent": balances.spent,
        "expired": balances.expired,
        "image_url": None,
        "membership_id": [account.account_number] if account is not None else [],
        "optin_at": unix(account.enrolled_at) if account is not None else None,
        "last_login_at": None,
        "updated_at": unix(updated),
        "purchase_count": overview.purchase_count,
        "purchase_total": number(overview.purchase_total),
        "purchase_last_date": last_purchase.isoformat() if last_purchase else None,
        "properties": dict(customer.custom_attributes),
        "tiers": [],
        "accounts": [],
    }
    if account is None:
        return body
    program = account.program
    renewal = overview.renewal
    body["tiers"] = [
        _tier(status, program, renewal.current_value if renewal is not None else status.points)
        for status in overview.tiers
    ]
    body["accounts"] = [
        {
            **points_account(program),
            "earned": balances.earned,
            "spent": balances.spent,
            "pending": balances.pending,
            "reserved": balances.reserved,
            "expired": balances.expired,
            "spendable": balances.spendable,
            "burn_rates": [
                {
                    "points": 1,
                    "amount": float(program.burn_value),
                    "currency": program.currency,
                    "converted_amount": float((balances.spendable * program.burn_value).quantize(Decimal("0.01"))),
                    "unconverted_points": 0,
                }
            ],
        }
    ]
    return body


# ----------------------------------------------------------------------------------------------------- coupons

COUPON_STATUSES = {
    # A voucher issued to a customer is one they hold: Antavo's claimed.
    Voucher.Status.ISSUED: "claimed",
    Voucher.Status.CLAIMED: "claimed",
    Voucher.Status.REDEEMED: "redeemed",
    Voucher.Status.EXPIRED: "expired",
    Voucher.Status.CANCELLED: "invalid",
}
COUPON_TYPES = {
    CouponDefinition.Kind.PERCENT: "percentage",
    CouponDefinition.Kind.AMOUNT: "amount",
    CouponDefinition.Kind.FREE_ITEM: "free_item",
}


def antavo_coupon_body(voucher: Voucher) -> Body:
    definition = voucher.definition
    return {
        "code": voucher.code,
        "status": COUPON_STATUSES[Voucher.Status(voucher.status)],
        "type": COUPON_TYPES[CouponDefinition.Kind(definition.kind)],
        "value": number(definition.value),
        "currency": definition.program.currency,
        "name": definition.name,
        "pool": definition.code,
        "created_at": iso(voucher.issued_at),
        "claimed_at": iso(voucher.claimed_at),
        "redeemed_at": iso(voucher.redeemed_at),
        "expires_at": iso(voucher.expires_at),
    }


# ------------------------------------------------------------------------------- output (OpenAPI documentation)


class AntavoAccountRefOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The loyalty program's code.")
    name = serializers.CharField()


class AntavoEventEntryOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Ledger entry id.")
    action = serializers.CharField(help_text="The event's action; point_spend for points a checkout burned.")
    points = serializers.IntegerField()
    expdate = serializers.DateField(allow_null=True)
    account = AntavoAccountRefOutputSerializer(allow_null=True)


class AntavoEventOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Antavo's customer id, as sent.")
    created_at = serializers.IntegerField(help_text="Unix time the customer was created.")
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    status = serializers.CharField(help_text="active, inactive (never enrolled), opted_out or banned.")
    language = serializers.CharField()
    image_url = serializers.CharField(allow_null=True)
    currency = serializers.CharField(required=False)
    score = serializers.IntegerField(required=False, help_text="Points ever earned.")
    spendable = serializers.IntegerField(required=False)
    pending = serializers.IntegerField(required=False)
    reserved = serializers.IntegerField(required=False)
    spent = serializers.IntegerField(required=False)
    expired = serializers.IntegerField(required=False)
    events = AntavoEventEntryOutputSerializer(many=True)


class AntavoErrorDetailOutputSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Antavo's exception class, e.g. NotFoundException.")
    code = serializers.IntegerField(help_text="Antavo's error number (160212 Customer not found), 0 if it has none.")
    message = serializers.CharField()
    reason = serializers.CharField(help_text="Our error code, e.g. ERR_TX_ALREADY_EXISTS or validation_error.")


class AntavoErrorOutputSerializer(serializers.Serializer):
    error = AntavoErrorDetailOutputSerializer()


class AntavoBulkEventEntryOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    action = serializers.CharField()
    points = serializers.IntegerField()


class AntavoBulkResultOutputSerializer(serializers.Serializer):
    events = AntavoBulkEventEntryOutputSerializer(many=True, required=False)
    error = AntavoErrorDetailOutputSerializer(required=False)


class AntavoBulkOutputSerializer(serializers.Serializer):
    results = AntavoBulkResultOutputSerializer(many=True)
    total = serializers.IntegerField()
    # A field, not Serializer.errors (mypy takes it for an override): DRF's metaclass moves it out of the class.
    errors = serializers.IntegerField()  # type: ignore[assignment]


class AntavoTierStructureOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class AntavoNextTierOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    points = serializers.FloatField(help_text="Qualifying points (or spend) still needed to reach it.")


class AntavoTierOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    structure = AntavoTierStructureOutputSerializer()
    threshold = serializers.FloatField()
    points = serializers.FloatField()
    points_after_expiration = serializers.FloatField()
    since = serializers.DateTimeField(allow_null=True)
    expdate = serializers.DateTimeField(allow_null=True)
    next = AntavoNextTierOutputSerializer(required=False)


class AntavoBurnRateOutputSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    amount = serializers.FloatField()
    currency = serializers.CharField()
    converted_amount = serializers.FloatField()
    unconverted_points = serializers.IntegerField()


class AntavoAccountOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    earned = serializers.IntegerField()
    spent = serializers.IntegerField()
    pending = serializers.IntegerField()
    reserved = serializers.IntegerField()
    expired = serializers.IntegerField()
    spendable = serializers.IntegerField()
    burn_rates = AntavoBurnRateOutputSerializer(many=True)


class AntavoCustomerOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    mobile_phone = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    language = serializers.CharField()
    country = serializers.CharField()
    currency = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text="active, inactive (never enrolled), opted_out or banned.")
    score = serializers.IntegerField()
    spendable = serializers.IntegerField()
    pending = serializers.IntegerField()
    reserved = serializers.IntegerField()
    spent = serializers.IntegerField()
    expired = serializers.IntegerField()
    image_url = serializers.CharField(allow_null=True)
    membership_id = serializers.ListField(child=serializers.CharField())
    optin_at = serializers.IntegerField(allow_null=True)
    last_login_at = serializers.IntegerField(allow_null=True)
    updated_at = serializers.IntegerField()
    purchase_count = serializers.IntegerField()
    purchase_total = serializers.FloatField()
    purchase_last_date = serializers.DateField(allow_null=True)
    properties = serializers.DictField()
    tiers = AntavoTierOutputSerializer(many=True)
    accounts = AntavoAccountOutputSerializer(many=True)


class AntavoCouponOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField(help_text="claimed, redeemed, expired or invalid (cancelled).")
    type = serializers.CharField(help_text="percentage, amount or free_item.")
    value = serializers.FloatField()
    currency = serializers.CharField()
    name = serializers.CharField()
    pool = serializers.CharField(help_text="The coupon definition's code.")
    created_at = serializers.DateTimeField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    redeemed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class AntavoCouponListOutputSerializer(serializers.Serializer):
    # A field, not Serializer.data (mypy takes it for an override): DRF's metaclass moves it out of the class.
    data = AntavoCouponOutputSerializer(many=True)  # type: ignore[assignment]
