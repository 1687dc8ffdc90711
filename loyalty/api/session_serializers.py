"""Shapes of POST /api/v1/sessions, after LoyaltyLion's headless "initialize session" (B4, B8): snake_case, the
customer as `enrolled`, `guest` or `blocked`, the configuration of GET /api/v1/configuration, and the actions the
shop should take on its cart. Serializers check shape and types; loyalty/services/sessions.py decides."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from crm.validators import validate_person_name, validate_plain_text
from loyalty.api.coupon_serializers import CouponCodeField
from loyalty.api.customer_serializers import (
    ConfigurationOutputSerializer,
    LanguageField,
    QualifyingValueField,
    RewardOutputSerializer,
)
from loyalty.models import SESSION_CHANNELS, Voucher
from loyalty.selectors.sessions import CART_ACTION_REASONS, SessionCustomer, TierMembership

CHANNEL_HEADERS = ("X-Channel", "X-LoyaltyLion-Channel")
LANGUAGE_HEADERS = ("X-Language", "X-LoyaltyLion-Language")
MAX_CART_LINES = 500
# Each line that redeems a voucher costs a few queries to check; a real cart redeems a handful.
MAX_VOUCHER_LINES = 20
MERCHANT_ID_MAX_LENGTH = 64  # Customer.alternate_customer_id


def request_options(request: Request) -> dict[str, str]:
    """`channel` and `language` as the query (`?channel=`) or a header (X-Channel, or LoyaltyLion's
    X-LoyaltyLion-Channel; X-Language, X-LoyaltyLion-Language) gives them, for an input serializer to check.
    Raises a 400 naming the option when two of them give different values."""
    options: dict[str, str] = {}
    for name, headers in (("channel", CHANNEL_HEADERS), ("language", LANGUAGE_HEADERS)):
        given = [request.query_params.get(name), *(request.headers.get(header) for header in headers)]
        values = {value.strip() for value in given if value is not None and value.strip()}
        if len(values) > 1:
            raise serializers.ValidationError(
                {name: [_("The query parameter and the header disagree: %(values)s.") % {"values": sorted(values)}]}
            )
        if values:
            options[name] = values.pop()
    return options


# ------------------------------------------------------------------------------------------------- input


class SessionOptionsInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=SESSION_CHANNELS,
        error_messages={"required": _("This field is required: send ?channel= or the X-Channel header.")},
    )
    language = LanguageField(required=False)


class SessionShopperInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, allow_null=True, help_text="Used when the customer is created; null for a shopper without one."
    )
    first_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", validators=[validate_person_name]
    )
    last_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", validators=[validate_person_name]
    )


class CartLineInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, validators=[validate_plain_text], help_text="The shop's line id.")
    product_id = serializers.CharField(max_length=100, validators=[validate_plain_text])
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), help_text="Unit price, a decimal string."
    )
    voucher_code = CouponCodeField(required=False, help_text="The voucher this line redeems (a reward item).")


class CartInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=("empty", "items"))
    id = serializers.CharField(max_length=100, required=False, validators=[validate_plain_text])
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=CartLineInputSerializer(), required=False, max_length=MAX_CART_LINES
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        lines = attrs.get("lines")
        if attrs["kind"] == "empty" and lines:
            raise serializers.ValidationError({"lines": [_("An empty cart has no lines.")]})
        if attrs["kind"] == "items" and lines is None:
            raise serializers.ValidationError({"lines": [_("A cart of kind items needs its lines.")]})
        lines = lines or []
        ids = [line["id"] for line in lines]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError({"lines": [_("Line ids must be distinct.")]})
        if sum(1 for line in lines if line.get("voucher_code")) > MAX_VOUCHER_LINES:
            raise serializers.ValidationError(
                {"lines": [_("At most %(count)d lines may redeem a voucher.") % {"count": MAX_VOUCHER_LINES}]}
            )
        return attrs


class SessionInputSerializer(serializers.Serializer):
    """The body. `merchant_id` comes from the body, or from the path of /api/v1/customers/{merchant_id}/sessions
    (the view passes it in the context; given in both places, they must agree)."""

    merchant_id = serializers.CharField(
        max_length=MERCHANT_ID_MAX_LENGTH,
        required=False,
        validators=[validate_plain_text],
        help_text="The shop's own customer id. Required here unless the path carries it.",
    )
    customer = SessionShopperInputSerializer()
    language = LanguageField(required=False, help_text="Also ?language= or X-Language.")
    cart = CartInputSerializer(required=False, help_text='{"kind": "empty"} or {"kind": "items", "lines": [...]}.')

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        in_path = self.context.get("merchant_id")
        if in_path is not None:
            in_path = self._path_merchant_id(str(in_path))
            if attrs.get("merchant_id", in_path) != in_path:
                raise serializers.ValidationError({"merchant_id": [_("The body and the path disagree.")]})
            attrs["merchant_id"] = in_path
        elif not attrs.get("merchant_id"):
            raise serializers.ValidationError({"merchant_id": [_("This field is required.")]})
        return attrs

    def _path_merchant_id(self, value: str) -> str:
        """The path's merchant_id, checked as the body's field is."""
        try:
            return self.fields["merchant_id"].run_validation(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"merchant_id": error.detail}) from error


# ------------------------------------------------------------------------------------------------ output


class ClaimedRewardOutputSerializer(serializers.Serializer):
    """One of the shopper's vouchers usable on the channel now."""

    code = serializers.CharField()
    reward_id = serializers.CharField(source="definition.code", help_text="The coupon it is a voucher of.")
    title = serializers.CharField(source="definition.name")
    kind = serializers.CharField(source="definition.kind")
    value = serializers.DecimalField(source="definition.value", max_digits=14, decimal_places=4, coerce_to_string=False)
    product_id = serializers.CharField(source="definition.product_id")
    minimum_spend = serializers.DecimalField(
        source="definition.min_basket", max_digits=14, decimal_places=4, coerce_to_string=False
    )
    auto_apply = serializers.BooleanField(source="definition.auto_apply")
    state = serializers.CharField(source="status", help_text="issued or claimed.")
    issued_at = serializers.DateTimeField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.SerializerMethodField(help_text="The voucher's expiry or its coupon's end; exclusive.")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expires_at(self, voucher: Voucher) -> str | None:
        ends = [end for end in (voucher.expires_at, voucher.definition.valid_until) if end is not None]
        return serializers.DateTimeField().to_representation(min(ends)) if ends else None


class CanRedeemOutputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(source="can_redeem", choices=("redeemable", "cart_requirements_not_met"))


class ClaimLimitOutputSerializer(serializers.Serializer):
    state = serializers.SerializerMethodField(help_text="no_limit or limit_not_reached.")
    remaining = serializers.IntegerField(source="claims_left", allow_null=True)

    def get_state(self, reward: Any) -> str:
        return "no_limit" if reward.claims_left is None else "limit_not_reached"


class AvailableRewardContextOutputSerializer(serializers.Serializer):
    can_redeem = CanRedeemOutputSerializer(source="*")
    claim_count = serializers.IntegerField(help_text="Times the shopper has redeemed it.")
    claim_limit = ClaimLimitOutputSerializer(source="*")


class AvailableRewardOutputSerializer(RewardOutputSerializer):
    # A field, not Field.context (mypy takes it for an override): DRF's metaclass moves it out of the class.
    context = AvailableRewardContextOutputSerializer(source="*")  # type: ignore[assignment]


class TierPointsOutputSerializer(serializers.Serializer):
    now = QualifyingValueField()
    at_expiration = QualifyingValueField(
        allow_null=True, help_text="What will still count at the tier's expiry; null: no expiry."
    )


_NO_RENEWAL = "null: nothing to renew (the entry tier)."
_NO_UPGRADE = "null: no next tier."


class TierProgressOutputSerializer(serializers.Serializer):
    """LoyaltyLion's progress: keys named after the program's unit, `points_…` or `spend_…` (spend in money)."""

    kind = serializers.CharField(help_text="points or spend.")
    valid_until = serializers.DateTimeField(source="expires_at", allow_null=True)
    points_needed_for_renewal = QualifyingValueField(required=False, allow_null=True, help_text=_NO_RENEWAL)
    points_needed_for_upgrade = QualifyingValueField(required=False, allow_null=True, help_text=_NO_UPGRADE)
    tier_points = TierPointsOutputSerializer(required=False, source="*")
    spend_needed_for_renewal = QualifyingValueField(required=False, allow_null=True, help_text=_NO_RENEWAL)
    spend_needed_for_upgrade = QualifyingValueField(required=False, allow_null=True, help_text=_NO_UPGRADE)
    tier_spend = TierPointsOutputSerializer(required=False, source="*")
    upgrade_tier_id = serializers.SerializerMethodField()

    def get_upgrade_tier_id(self, membership: TierMembership) -> str | None:
        return membership.upgrade_tier.code if membership.upgrade_tier else None

    def to_representation(self, instance: TierMembership) -> dict[str, Any]:
        data = super().to_representation(instance)
        unit = "spend" if instance.kind == "spend" else "points"
        other = "points" if unit == "spend" else "spend"
        data[f"{unit}_needed_for_renewal"] = instance.needed_for_renewal
        data[f"{unit}_needed_for_upgrade"] = instance.needed_for_upgrade
        for key in (f"{other}_needed_for_renewal", f"{other}_needed_for_upgrade", f"tier_{other}"):
            data.pop(key, None)
        return data


class TierProgressOutputSchema(OpenApiSerializerExtension):
    """Only the program's unit has keys (points_… or spend_…, never both), so neither pair is required; drf-spectacular
    would require every read-only field."""

    target_class = TierProgressOutputSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        unit_keys = {f"{unit}_needed_for_{goal}" for unit in ("points", "spend") for goal in ("renewal", "upgrade")}
        schema["required"] = [name for name in schema.get("required", []) if name not in unit_keys]
        return schema


class TierMembershipOutputSerializer(serializers.Serializer):
    tier_id = serializers.CharField(source="tier.code")
    tier_name = serializers.CharField(source="tier.name")
    started_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    progress = TierProgressOutputSerializer(source="*")


def _or_null(value: str) -> str | None:
    return value or None


class SessionCustomerOutputSerializer(serializers.Serializer):
    """LoyaltyLion's CustomerGuest / CustomerBlocked (the identity fields only) and CustomerEnrolled (all of them)."""

    state = serializers.CharField(help_text="enrolled, guest or blocked.")
    id = serializers.CharField(source="customer.public_id", help_text="Our customer id.")
    merchant_id = serializers.CharField()
    email = serializers.SerializerMethodField()
    first_name = serializers.SerializerMethodField()
    last_name = serializers.SerializerMethodField()
    account_number = serializers.CharField(source="account.account_number", required=False)
    points_approved = serializers.IntegerField(source="overview.balances.spendable", required=False)
    points_pending = serializers.IntegerField(source="overview.balances.pending", required=False)
    points_spent = serializers.IntegerField(source="overview.balances.spent", required=False)
    enrolled_at = serializers.DateTimeField(source="account.enrolled_at", allow_null=True, required=False)
    tier_membership = TierMembershipOutputSerializer(allow_null=True, required=False)
    available_rewards = AvailableRewardOutputSerializer(many=True, required=False)
    claimed_rewards = ClaimedRewardOutputSerializer(many=True, required=False)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_email(self, shopper: SessionCustomer) -> str | None:
        return _or_null(shopper.customer.email)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_first_name(self, shopper: SessionCustomer) -> str | None:
        return _or_null(shopper.customer.first_name)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_last_name(self, shopper: SessionCustomer) -> str | None:
        return _or_null(shopper.customer.last_name)

    def to_representation(self, instance: SessionCustomer) -> dict[str, Any]:
        if instance.state == "enrolled":
            return super().to_representation(instance)
        return {
            "state": instance.state,
            "id": instance.customer.public_id,
            "merchant_id": instance.merchant_id,
            "email": self.get_email(instance),
            "first_name": self.get_first_name(instance),
            "last_name": self.get_last_name(instance),
        }


class CartLineRefOutputSerializer(serializers.Serializer):
    kind = serializers.SerializerMethodField()
    id = serializers.CharField()
    product_id = serializers.CharField()

    def get_kind(self, line: dict[str, Any]) -> str:
        return "items"


class CartRedemptionOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="voucher_code", help_text="The voucher code the line redeems.")


class CartActionOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=("remove_cart_line",))
    reason = serializers.ChoiceField(choices=CART_ACTION_REASONS)
    cart_line_to_remove = CartLineRefOutputSerializer(source="line")
    cart_redemption = CartRedemptionOutputSerializer(source="*")
    coupon_reasons = serializers.ListField(
        child=serializers.CharField(), help_text="The coupons API's reasons (validate), for logs and support."
    )


class SessionOutputSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="web, pos or mobile.")
    currency = serializers.CharField(help_text="ISO 4217, lower-case: usd.")
    language = serializers.CharField(help_text="ISO 639-1.")
    customer = SessionCustomerOutputSerializer()
    configuration = ConfigurationOutputSerializer(help_text="What GET /api/v1/configuration answers.")
    requested_cart_actions = CartActionOutputSerializer(many=True)
