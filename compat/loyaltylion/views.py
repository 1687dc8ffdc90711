"""LoyaltyLion's headless API, version 2025-06, for storefronts and apps written against it
(docs/migrating-from-loyaltylion.md). Under /compat/loyaltylion/headless/2025-06/{site_id}/:

POST customers/{merchant_id}/sessions   initialize session: get or create (and enrol) the shopper   (loyalty:write)
GET  customers/{merchant_id}            get customer: read-only, 404 not_found for an unknown one    (loyalty:read)
GET  configuration                      the program's SiteConfiguration                              (loyalty:read)

`channel` comes from `?channel=` or the `X-LoyaltyLion-Channel` header (required, as on LoyaltyLion), the language
from `?language=` or `X-LoyaltyLion-Language`. Thin: the session is our sessions API's core
(loyalty.api.sessions.shopper_session_answer / shopper_session_read over loyalty.services.sessions), so a shopper
found here is the one /api/v1/sessions finds for the same merchant_id. `site_id` is not read: one program here.
"""

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compat.loyaltylion.authentication import LoyaltyLionAuthentication
from compat.loyaltylion.errors import loyaltylion_exception_handler
from compat.loyaltylion.serializers import (
    LoyaltyLionConfigurationOutputSerializer,
    LoyaltyLionCustomerResponseOutputSerializer,
    LoyaltyLionErrorOutputSerializer,
    LoyaltyLionMerchantIdInputSerializer,
    LoyaltyLionSessionInputSerializer,
    LoyaltyLionSessionResponseOutputSerializer,
    cart_action,
    configuration_body,
    customer_body,
)
from crm.permissions import HasRequiredScope, api_client_of
from loyalty.api.customer_serializers import LanguageField
from loyalty.api.session_serializers import request_options
from loyalty.api.sessions import ShopperSession, shopper_session_answer, shopper_session_read
from loyalty.models import SESSION_CHANNELS
from loyalty.selectors.sessions import SessionCart, loyalty_configuration_get
from loyalty.services.sessions import ShopperProfile

TAG = "LoyaltyLion headless"


class LoyaltyLionApi(APIView):
    authentication_classes = (LoyaltyLionAuthentication,)
    permission_classes = (HasRequiredScope,)
    required_scope = "loyalty:read"

    def get_exception_handler(self) -> Any:
        return loyaltylion_exception_handler


class OptionsInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=SESSION_CHANNELS,
        error_messages={"required": _("This field is required: send ?channel= or the X-LoyaltyLion-Channel header.")},
    )
    language = LanguageField(required=False)


def _options(request: Request) -> dict[str, Any]:
    serializer = OptionsInputSerializer(data=request_options(request))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _merchant_id(merchant_id: str) -> str:
    serializer = LoyaltyLionMerchantIdInputSerializer(data={"merchant_id": merchant_id})
    serializer.is_valid(raise_exception=True)
    return str(serializer.validated_data["merchant_id"])


def _session_body(session: ShopperSession, *, with_cart_actions: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": session.channel,
        "currency": session.currency,
        "language": session.language,
        "customer": customer_body(session.customer),
        "configuration": configuration_body(session.configuration),
    }
    if with_cart_actions:
        body["requested_cart_actions"] = [cart_action(action) for action in session.requested_cart_actions]
    return body


def _errors(statuses: dict[int, str]) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(LoyaltyLionErrorOutputSerializer, description=text) for status, text in statuses.items()
    }


ACCESS_ERRORS = {
    400: 'Bad input: {"error": {"message", "details": {field: message}}}.',
    401: 'No or a wrong Bearer key: {"error": {"message"}}.',
    403: 'The key lacks the scope: {"error": {"message"}}.',
    429: '{"error": {"code": "rate_limited"}}.',
    503: '{"error": {"code": "no_default_program", "message"}}.',
}
# A path whose site_id is not a number matches no route: LoyaltyLion's not_found, as for any unknown path.
NO_SUCH_PATH = {404: '{"error": {"code": "not_found"}}: no such path (site_id is not a number).'}
PARAMETERS = [
    OpenApiParameter("site_id", int, OpenApiParameter.PATH, description="LoyaltyLion's site id; not read here."),
    OpenApiParameter("channel", str, enum=list(SESSION_CHANNELS), description="Or the X-LoyaltyLion-Channel header."),
    OpenApiParameter(
        "X-LoyaltyLion-Channel", str, OpenApiParameter.HEADER, enum=list(SESSION_CHANNELS), description="Or ?channel=."
    ),
    OpenApiParameter("language", str, description="en, de, fr, es; or X-LoyaltyLion-Language."),
    OpenApiParameter("X-LoyaltyLion-Language", str, OpenApiParameter.HEADER, description="Or ?language=."),
]
MERCHANT_ID_PARAMETER = OpenApiParameter(
    "merchant_id", str, OpenApiParameter.PATH, description="The shop's customer id; URL-encode a Shopify GID."
)
ENROLLED_CUSTOMER_EXAMPLE = {
    "state": "enrolled",
    "id": 1042,
    "merchant_id": "1001",
    "email": "alice@example.com",
    "first_name": "Alice",
    "last_name": None,
    "points_approved": 1150,
    "points_pending": 80,
    "points_spent": 200,
    "enrolled_at": "2026-01-05T10:00:00Z",
    "tier_membership": {
        "tier_id": 2,
        "started_at": "2026-03-01T12:00:00Z",
        "expires_at": "2027-03-01T12:00:00Z",
        "progress": {
            "kind": "points",
            "valid_until": "2027-03-01T12:00:00Z",
            "upgrade_tier_id": 3,
            "forecasted_tier_id": 2,
            "points_needed_for_renewal": 0,
            "points_needed_for_upgrade": 3600,
            "tier_points": {"now": 1400, "at_expiration": 1150},
        },
    },
    "birthday": None,
    "next_birthday": None,
    "claimed_rewards": [],
    "available_rewards": [],
    "available_rules": [],
    "history": [],
    "active_cart_redemptions": [],
    "email_marketing_consent": {"state": "unknown"},
    "sms_marketing_consent": {"state": "unknown"},
    "receipt_upload_url": None,
    "referral_urls": None,
}


class SessionStartLoyaltyLionApi(LoyaltyLionApi):
    required_scope = "loyalty:write"

    @extend_schema(
        operation_id="loyaltylion_session_initialize",
        summary="Initialize session (LoyaltyLion headless 2025-06)",
        description=(
            "Returns the customer for `merchant_id`, creating them from `customer` if missing and enrolling them when "
            'the program auto-enrols on `channel`. `cart` is `{"kind": "empty"}` or a CartShopify: its lines '
            "(variant, quantity, unit price, the redemption in attribute `__lion_sfp_id`) are read, never refused "
            "for their kind. 422 `email_already_in_use` when the email belongs to another merchant_id's customer."
        ),
        parameters=[*PARAMETERS, MERCHANT_ID_PARAMETER],
        request=LoyaltyLionSessionInputSerializer,
        responses={
            200: LoyaltyLionSessionResponseOutputSerializer,
            **_errors({**ACCESS_ERRORS, **NO_SUCH_PATH, 409: "ambiguous_identifier", 422: "email_already_in_use"}),
        },
        examples=[
            OpenApiExample(
                "Published example body",
                value={"customer": {"email": "alice@example.com"}, "cart": {"kind": "empty"}},
                request_only=True,
            ),
            OpenApiExample(
                "Email of another customer",
                value={
                    "error": {
                        "code": "email_already_in_use",
                        "message": "This email address is already used by another customer.",
                    }
                },
                response_only=True,
                status_codes=["422"],
            ),
        ],
        tags=[TAG],
    )
    def post(self, request: Request, site_id: int, merchant_id: str) -> Response:
        options = _options(request)
        merchant_id = _merchant_id(merchant_id)
        serializer = LoyaltyLionSessionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        cart = data.get("cart") or {"kind": "empty"}
        language = options.get("language")
        session = shopper_session_answer(
            channel=options["channel"],
            merchant_id=merchant_id,
            profile=ShopperProfile(
                email=data["customer"]["email"],
                first_name=data["customer"]["first_name"],
                last_name=data["customer"]["last_name"],
                language=language or "",
            ),
            requested_language=language,
            cart=SessionCart(kind="items" if cart.get("core_lines") else "empty", lines=cart.get("core_lines") or []),
            api_client=api_client_of(request),
        )
        with translation.override(session.language):
            return Response(_session_body(session, with_cart_actions=True))


class CustomerGetLoyaltyLionApi(LoyaltyLionApi):
    @extend_schema(
        operation_id="loyaltylion_customer_get",
        summary="Get customer (LoyaltyLion headless 2025-06)",
        description="Read-only: never creates, enrols or changes a customer. 404 `not_found` for an unknown one.",
        parameters=[*PARAMETERS, MERCHANT_ID_PARAMETER],
        responses={
            200: LoyaltyLionCustomerResponseOutputSerializer,
            **_errors({**ACCESS_ERRORS, 404: "not_found", 409: "ambiguous_identifier"}),
        },
        examples=[
            OpenApiExample(
                "Enrolled",
                value={
                    "channel": "web",
                    "currency": "usd",
                    "language": "en",
                    "customer": ENROLLED_CUSTOMER_EXAMPLE,
                    "configuration": {},
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Unknown merchant_id",
                value={"error": {"code": "not_found", "message": "No customer has this merchant_id."}},
                response_only=True,
                status_codes=["404"],
            ),
        ],
        tags=[TAG],
    )
    def get(self, request: Request, site_id: int, merchant_id: str) -> Response:
        options = _options(request)
        session = shopper_session_read(
            channel=options["channel"],
            merchant_id=_merchant_id(merchant_id),
            requested_language=options.get("language"),
        )
        with translation.override(session.language):
            return Response(_session_body(session, with_cart_actions=False))


class ConfigurationGetLoyaltyLionApi(LoyaltyLionApi):
    @extend_schema(
        operation_id="loyaltylion_configuration_get",
        summary="Get configuration (LoyaltyLion headless 2025-06)",
        description="The SiteConfiguration: program, tier_configuration (numeric tier ids), rules, rewards.",
        parameters=PARAMETERS,
        responses={200: LoyaltyLionConfigurationOutputSerializer, **_errors({**ACCESS_ERRORS, **NO_SUCH_PATH})},
        tags=[TAG],
    )
    def get(self, request: Request, site_id: int) -> Response:
        options = _options(request)
        configuration = loyalty_configuration_get(channel=options["channel"], language=options.get("language"))
        with translation.override(configuration.language):
            return Response(configuration_body(configuration))
