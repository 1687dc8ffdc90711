"""Scan & Go Customer Profile API (shopreme): GET /customer-profile.

A shopper scans a loyalty card on a smart cart, a handheld scanner or an unlocking station; the device vendor
asks this endpoint whether to unlock, whom to greet, which coupons to apply, how to bias the spot check and which
language to speak. 200 with the profile, or a bare 404 when the card (or customer) is unknown or erased.
The decisions are loyalty/selectors/scan_and_go.py's; this view only translates the vendor's query parameters
and camelCase body. docs/scan-and-go.md is the integrators' guide.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clienteling.scan_and_go import schema_examples as examples
from clienteling.scan_and_go.errors import scan_and_go_exception_handler
from crm.models import ApiClient
from crm.permissions import HasRequiredScope, api_client_of
from crm.selectors import api_client_allowed_store_codes, api_client_store_check
from loyalty.card_numbers import CARD_NUMBER_MAX_LENGTH, card_number_normalise
from loyalty.selectors.scan_and_go import CouponOffer, ScanAndGoProfile, scan_and_go_profile_get

_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$"
# The longest customerId accepted; a device's own shopper key may be longer than ours (32).
CUSTOMER_ID_MAX_LENGTH = 128


def _card_number_validate(value: str) -> None:
    if not card_number_normalise(value, strip_leading_zeros=False):
        raise serializers.ValidationError(_("Use letters and digits only (spaces and dashes are ignored)."))


def _code_field(max_length: int) -> serializers.RegexField:
    return serializers.RegexField(
        _CODE_PATTERN,
        max_length=max_length,
        required=False,
        allow_blank=True,
        error_messages={"invalid": _("Use letters, digits, spaces, dots, dashes and underscores only.")},
    )


def store_code_for_client(client: ApiClient, store_code: str) -> str:
    """The store whose rules apply to the scan: the `storeId` sent. A key restricted to some stores may name only
    those (403 STORE_NOT_ALLOWED, before any lookup: it learns nothing of the shopper), and one that names none
    gets the key's store when it has exactly one, else a 400 (the program's rules could be laxer than the store's,
    so leaving the store out must not be a way around them). Raises ApplicationError and ValidationError."""
    allowed = api_client_allowed_store_codes(client=client)
    if not allowed:
        return store_code
    if not store_code:
        if len(allowed) == 1:
            return next(iter(allowed))
        raise serializers.ValidationError({"storeId": _("Required: this API key may act only for some stores.")})
    api_client_store_check(client=client, store_code=store_code, field="storeId", store_required=True)
    return store_code


def _decimal_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _coupon_body(coupon: CouponOffer) -> dict[str, Any]:
    body: dict[str, Any] = {"code": coupon.code, "title": coupon.title, "type": coupon.kind}
    if coupon.kind == "free_item":
        body["productId"] = coupon.product_id
    else:
        body["value"] = _decimal_number(coupon.value)
    if coupon.valid_until is not None:
        body["validUntil"] = _iso_utc(coupon.valid_until)
    return body


def profile_body(profile: ScanAndGoProfile) -> dict[str, Any]:
    """The vendor's camelCase body. Built by hand rather than by a serializer: it is the hot path, and every
    optional field is left out when unknown (never null). OutputSerializer below describes it for OpenAPI, and a
    test holds the two equal."""
    customer, account = profile.customer, profile.account
    unlocking: dict[str, Any] = {"isAllowed": profile.is_allowed}
    if profile.message:
        unlocking["message"] = profile.message
    body: dict[str, Any] = {"customerId": customer.public_id, "unlockingDevices": unlocking}
    for key, value in (("firstName", customer.first_name), ("lastName", customer.last_name), ("email", customer.email)):
        if value:
            body[key] = value
    # A guest left the loyalty program: no member prices or promotions on the device, and their points are frozen
    # until they opt in again, so the device gets no loyalty block at all.
    if profile.is_member:
        loyalty: dict[str, Any] = {"id": account.account_number}
        if account.tier is not None:
            loyalty["type"] = account.tier.code
        loyalty["pointsBalance"] = account.points_balance
        body["loyalty"] = loyalty
    if profile.coupons:
        body["coupons"] = [_coupon_body(coupon) for coupon in profile.coupons]
    body["spotCheckBias"] = profile.spot_check_bias
    if profile.preferred_locale:
        body["preferredLocale"] = profile.preferred_locale
    return body


class ScanAndGoErrorSerializer(serializers.Serializer):
    errorCode = serializers.CharField()
    errorMessage = serializers.CharField(help_text="Names the parameter at fault; localised by Accept-Language.")


class CustomerProfileScanAndGoApi(APIView):
    required_scope = "scan_and_go"
    permission_classes = (HasRequiredScope,)

    class InputSerializer(serializers.Serializer):
        loyaltyCardNumber = serializers.CharField(
            required=False, allow_blank=True, max_length=CARD_NUMBER_MAX_LENGTH, validators=[_card_number_validate]
        )
        cardNumber = serializers.CharField(
            required=False, allow_blank=True, max_length=CARD_NUMBER_MAX_LENGTH, validators=[_card_number_validate]
        )
        # Any string: devices send their own shopper key under this name too (shopreme's "customerId", such as
        # shopper_42). One that cannot be ours is simply not found (loyalty.selectors.scan_and_go).
        customerId = serializers.CharField(max_length=CUSTOMER_ID_MAX_LENGTH, required=False, allow_blank=True)
        storeId = _code_field(64)
        deviceType = _code_field(64)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if not (attrs.get("loyaltyCardNumber") or attrs.get("cardNumber") or attrs.get("customerId")):
                raise serializers.ValidationError(
                    {"loyaltyCardNumber": _("Required: the scanned card number (or cardNumber, or customerId).")}
                )
            if attrs.get("loyaltyCardNumber") or attrs.get("cardNumber"):
                # The card number wins: a customerId beside it is the device's own key, not ours.
                attrs.pop("customerId", None)
            return attrs

    @extend_schema_serializer(component_name="ScanAndGoCustomerProfile")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="ScanAndGoUnlockingDevices")
        class UnlockingDevicesSerializer(serializers.Serializer):
            isAllowed = serializers.BooleanField()
            message = serializers.CharField(required=False, help_text="Only when denied; in the shopper's language.")

        @extend_schema_serializer(component_name="ScanAndGoLoyalty")
        class LoyaltySerializer(serializers.Serializer):
            id = serializers.CharField(help_text="The loyalty account number (stable across card replacements).")
            type = serializers.CharField(required=False, help_text="The tier code.")
            pointsBalance = serializers.IntegerField(help_text="Spendable points.")

        @extend_schema_serializer(component_name="ScanAndGoCoupon")
        class CouponSerializer(serializers.Serializer):
            code = serializers.CharField()
            title = serializers.CharField()
            # A plain string, not an enum: the SPI's coupon `type` would collide with it in the schema's enum names.
            type = serializers.CharField(help_text="percent, amount or free_item.")
            value = serializers.FloatField(required=False, help_text="Percent or amount; not for free items.")
            productId = serializers.CharField(required=False, help_text="Free items only.")
            validUntil = serializers.DateTimeField(required=False, help_text="Exclusive, UTC.")

        customerId = serializers.CharField()
        unlockingDevices = UnlockingDevicesSerializer()
        firstName = serializers.CharField(required=False)
        lastName = serializers.CharField(required=False)
        email = serializers.EmailField(required=False)
        loyalty = LoyaltySerializer(
            required=False, help_text="Left out for a guest (a customer who opted out of the loyalty program)."
        )
        coupons = CouponSerializer(many=True, required=False)
        spotCheckBias = serializers.IntegerField(min_value=-100, max_value=100)
        preferredLocale = serializers.CharField(required=False, help_text="BCP 47, e.g. de-DE.")

    def get_exception_handler(self) -> Any:
        return scan_and_go_exception_handler

    @extend_schema(
        operation_id="SCAN_AND_GO_CUSTOMER_PROFILE",
        summary="Scan & Go: the shopper behind a scanned loyalty card",
        description=(
            "Called by Scan & Go devices when a shopper scans a loyalty card. Answers whether to unlock the device "
            "(`unlockingDevices.isAllowed`, with a message in the shopper's language when not), the greeting, "
            "the loyalty balance, the coupons to apply automatically, the spot-check bias (-100..100) and the "
            "shopper's locale. Unknown or erased: 404 with an empty body. The card number wins over `customerId` "
            "when both are sent. Needs the `scan_and_go` scope; HTTP Basic with the key as password works too."
        ),
        parameters=[
            OpenApiParameter("loyaltyCardNumber", str, description="The scanned card number (spaces, dashes ignored)."),
            OpenApiParameter("cardNumber", str, description="Alias of loyaltyCardNumber."),
            OpenApiParameter(
                "customerId",
                str,
                description="Our customer id, when no card number is sent (up to 128 characters). Ignored when a "
                "card number is sent: devices send their own shopper key under this name. An id that is not ours "
                "is a 404 like an unknown card.",
            ),
            OpenApiParameter(
                "storeId",
                str,
                description="The store code; selects the store's overrides. A key restricted to stores may name "
                "only those; without storeId it answers for its only store (400 when it has several).",
            ),
            OpenApiParameter("deviceType", str, description="e.g. smart_cart, handheld, unlocking_station."),
        ],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                ScanAndGoErrorSerializer, description="A parameter is missing or malformed; the message names it."
            ),
            401: OpenApiResponse(description="Missing or wrong API key; empty body."),
            403: OpenApiResponse(
                ScanAndGoErrorSerializer,
                description="The key lacks the scan_and_go scope, or is restricted to stores other than storeId.",
            ),
            404: OpenApiResponse(description="No such card or customer, or the customer is erased; empty body."),
        },
        examples=[examples.ALLOWED, examples.DENIED, examples.BAD_REQUEST, examples.STORE_NOT_ALLOWED],
        tags=["Scan & Go"],
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        profile = scan_and_go_profile_get(
            card_number=params.get("loyaltyCardNumber") or params.get("cardNumber") or "",
            customer_id=params.get("customerId") or "",
            store_code=store_code_for_client(api_client_of(request), params.get("storeId") or ""),
            device_type=params.get("deviceType") or "",
        )
        if profile is None:
            return Response(status=404)
        return Response(profile_body(profile))
