"""Shopper sessions for web shops and apps (DESIGN 5.3), after LoyaltyLion's headless "initialize session":

POST /api/v1/sessions                          merchant_id in the body                      (scope loyalty:write)
POST /api/v1/customers/{merchant_id}/sessions  LoyaltyLion's path; merchant_id in the path  (scope loyalty:write)

`channel` (web, pos, mobile) comes from `?channel=` or the `X-Channel` / `X-LoyaltyLion-Channel` header. The
session gets or creates the shop's customer, enrols them when the program auto-enrols on that channel, and answers
the customer (enrolled, guest or blocked), the program's configuration and the actions the shop should take on its
cart. Calling it again is safe: it finds the same customer and answers their current state.
"""

from dataclasses import dataclass, replace
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import input_parameter
from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.models import ApiClient, ConsentChange, Customer
from crm.permissions import api_client_of
from crm.services.context import ChangeContext
from loyalty.api.common import LoyaltyWriteApi, access_error_responses
from loyalty.api.customers import CONFIGURATION_EXAMPLE
from loyalty.api.event_serializers import ErrorOutputSerializer
from loyalty.api.session_serializers import (
    SessionInputSerializer,
    SessionOptionsInputSerializer,
    SessionOutputSerializer,
    request_options,
)
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount
from loyalty.selectors.accounts import ERASED_MESSAGE
from loyalty.selectors.sessions import (
    CartAction,
    LoyaltyConfiguration,
    SessionCart,
    SessionCustomer,
    customer_by_merchant_id,
    loyalty_configuration_get,
    session_account_get,
    session_cart_actions,
    session_customer_get,
    session_language,
)
from loyalty.services.sessions import ShopperProfile, shopper_session_start

TAG = "Loyalty sessions"


@dataclass(frozen=True)
class ShopperSession:
    channel: str
    currency: str
    language: str
    customer: SessionCustomer
    configuration: LoyaltyConfiguration
    requested_cart_actions: list[CartAction]


def _error(name: str, status: str, message: str, code: str, **extra: Any) -> OpenApiExample:
    return OpenApiExample(
        name, value={"message": message, "code": code, "extra": extra}, response_only=True, status_codes=[status]
    )


_CONFIGURATION = CONFIGURATION_EXAMPLE
REQUEST_EXAMPLES = [
    OpenApiExample(
        "First visit, empty cart",
        value={
            "merchant_id": "shop-1001",
            "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
            "language": "en",
            "cart": {"kind": "empty"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Cart with a reward line",
        value={
            "merchant_id": "shop-1001",
            "customer": {"email": "ada@example.com"},
            "cart": {
                "kind": "items",
                "id": "cart-77",
                "lines": [
                    {"id": "L1", "product_id": "SHIRT", "quantity": 1, "price": "40.00"},
                    {"id": "L2", "product_id": "MUG", "quantity": 1, "price": "0.00", "voucher_code": "MUG-7KQ4M2XR"},
                ],
            },
        },
        request_only=True,
    ),
]
RESPONSE_EXAMPLES = [
    OpenApiExample(
        "Enrolled shopper",
        value={
            "channel": "web",
            "currency": "usd",
            "language": "en",
            "customer": {
                "state": "enrolled",
                "id": "C8M4Q2T7ZK1PA",
                "merchant_id": "shop-1001",
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "account_number": "512345678903",
                "points_approved": 1150,
                "points_pending": 80,
                "points_spent": 200,
                "enrolled_at": "2026-01-05T10:00:00Z",
                "tier_membership": {
                    "tier_id": "silver",
                    "tier_name": "Silver",
                    "started_at": "2026-03-01T12:00:00Z",
                    "expires_at": "2027-03-01T12:00:00Z",
                    "progress": {
                        "kind": "points",
                        "valid_until": "2027-03-01T12:00:00Z",
                        "points_needed_for_renewal": 0,
                        "points_needed_for_upgrade": 3600,
                        "tier_points": {"now": 1400, "at_expiration": 1150},
                        "upgrade_tier_id": "gold",
                    },
                },
                "available_rewards": [
                    {
                        "id": "silver-5-off",
                        "kind": "amount",
                        "title": "$5 off for Silver members",
                        "description": "",
                        "value": 5.0,
                        "product_id": "",
                        "minimum_spend": 50.0,
                        "auto_apply": True,
                        "channels": ["pos", "web"],
                        "valid_from": None,
                        "valid_until": None,
                        "limit": {"per_customer": 1, "total": None},
                        "tier_ids": ["silver", "gold"],
                        "context": {
                            "can_redeem": {"state": "cart_requirements_not_met"},
                            "claim_count": 0,
                            "claim_limit": {"state": "limit_not_reached", "remaining": 1},
                        },
                    }
                ],
                "claimed_rewards": [
                    {
                        "code": "WELCOME-7KQ4M2XR",
                        "reward_id": "welcome-10",
                        "title": "Welcome 10%",
                        "kind": "percent",
                        "value": 10.0,
                        "product_id": "",
                        "minimum_spend": 0.0,
                        "auto_apply": False,
                        "state": "issued",
                        "issued_at": "2026-01-05T10:00:00Z",
                        "claimed_at": None,
                        "expires_at": "2026-02-04T10:00:00Z",
                    }
                ],
            },
            "configuration": _CONFIGURATION,
            "requested_cart_actions": [
                {
                    "kind": "remove_cart_line",
                    "reason": "redemption_expired",
                    "cart_line_to_remove": {"kind": "items", "id": "L2", "product_id": "MUG"},
                    "cart_redemption": {"id": "MUG-7KQ4M2XR"},
                    "coupon_reasons": ["coupon_expired"],
                }
            ],
        },
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "Guest (the program does not auto-enrol on this channel)",
        value={
            "channel": "pos",
            "currency": "usd",
            "language": "en",
            "customer": {
                "state": "guest",
                "id": "C3XW9KQ0RB2MT",
                "merchant_id": "shop-1002",
                "email": "grace@example.com",
                "first_name": "Grace",
                "last_name": None,
            },
            "configuration": {**_CONFIGURATION, "channel": "pos"},
            "requested_cart_actions": [],
        },
        response_only=True,
        status_codes=["200"],
    ),
    _error(
        "Missing channel",
        "400",
        "channel: This field is required: send ?channel= or the X-Channel header.",
        "validation_error",
        fields={"channel": ["This field is required: send ?channel= or the X-Channel header."]},
    ),
    _error(
        "Email of another customer",
        "422",
        "This email address is already used by another customer.",
        "email_already_in_use",
        field="customer.email",
    ),
    _error(
        "Several customers carry the merchant_id",
        "409",
        "Several customers have this merchant_id; merge them in the back office.",
        "AMBIGUOUS_IDENTIFIER",
        field="merchant_id",
    ),
]
PARAMETERS = [
    OpenApiParameter("channel", str, enum=["web", "pos", "mobile"], description="Or the X-Channel header."),
    OpenApiParameter(
        "X-Channel", str, OpenApiParameter.HEADER, enum=["web", "pos", "mobile"], description="Or ?channel=."
    ),
    OpenApiParameter(
        "X-LoyaltyLion-Channel", str, OpenApiParameter.HEADER, description="LoyaltyLion's name for X-Channel."
    ),
    input_parameter(
        SessionOptionsInputSerializer,
        "language",
        description="en, de, fr or es; also X-Language, or `language` in the body.",
        blank_ignored=True,
    ),
    input_parameter(
        SessionOptionsInputSerializer,
        "X-Language",
        field_name="language",
        location=OpenApiParameter.HEADER,
        description="Or ?language=.",
        blank_ignored=True,
    ),
]
RESPONSES = {
    200: SessionOutputSerializer,
    **access_error_responses(scope="loyalty:write"),
    **{
        status: OpenApiResponse(ErrorOutputSerializer, description=text)
        for status, text in {
            400: "Bad input (no or an unknown channel, a bad email, a bad cart); the message names the field.",
            409: "AMBIGUOUS_IDENTIFIER: several customers carry the merchant_id.",
            410: f'CUSTOMER_ERASED: "{ERASED_MESSAGE}" (only for a record edited outside the services).',
            422: "email_already_in_use: the email belongs to a customer of another merchant_id. Nothing is written.",
            503: "NO_DEFAULT_PROGRAM.",
        }.items()
    },
}
DESCRIPTION = (
    "Call it once per page load (web) or app session (mobile). Finds the customer whose external id is "
    "`merchant_id`; if there is none, links the customer who has the email and no external id yet, or creates "
    "one from `customer` (which is used only to create: a session never edits a profile). Enrols the customer "
    "when the program's auto-enrol channels include `channel` and they have no account yet (blocked and "
    "opted-out shoppers stay as they are). Answers `customer` with `state` `enrolled` (points, tier progress, "
    "`available_rewards` = auto-apply coupons they may use, `claimed_rewards` = their vouchers usable on the "
    "channel), `guest` or `blocked` (identity only); `configuration` as `GET /api/v1/configuration`; and "
    "`requested_cart_actions`: `remove_cart_line` for each cart line whose `voucher_code` no longer applies "
    "(`redemption_expired`, `redemption_cart_requirements_not_met`, `redemption_invalid`, `customer_blocked`). "
    "Idempotent: concurrent first sessions for one merchant_id create one customer; a retry answers the current "
    "state (no Idempotency-Key needed). Currency is lower-case ISO 4217, language ISO 639-1."
)


def _shopper_session(
    *,
    channel: str,
    customer: Customer,
    account: LoyaltyAccount | None,
    configuration: LoyaltyConfiguration,
    requested_language: str | None,
    cart: SessionCart,
) -> ShopperSession:
    if customer.status == Customer.Status.ERASED:
        # Erasure blanks the merchant_id, so only a record edited outside the services gets here; answer as the
        # 360 view does.
        raise ApplicationError(ERASED_MESSAGE, code=LoyaltyErrorCode.CUSTOMER_ERASED, status=410)
    language = session_language(requested=requested_language, customer=customer, program=configuration.program)
    configuration = replace(configuration, language=language)
    shopper = session_customer_get(
        customer=customer, account=account, configuration=configuration, channel=channel, cart=cart
    )
    return ShopperSession(
        channel=channel,
        currency=configuration.currency,
        language=language,
        customer=shopper,
        configuration=configuration,
        requested_cart_actions=session_cart_actions(customer=customer, state=shopper.state, channel=channel, cart=cart),
    )


def shopper_session_answer(
    *,
    channel: str,
    merchant_id: str,
    profile: ShopperProfile,
    requested_language: str | None,
    cart: SessionCart,
    api_client: ApiClient,
) -> ShopperSession:
    """A shopper session: the shopper got or created (and enrolled) by shopper_session_start, answered in the
    requested language (else theirs, else the program's) with the configuration and the cart's actions. The one
    core of every dialect's session (ours here, LoyaltyLion's in compat/loyaltylion/)."""
    configuration = loyalty_configuration_get(channel=channel, language=requested_language)
    shopper = shopper_session_start(
        program=configuration.program,
        merchant_id=merchant_id,
        channel=channel,
        profile=profile,
        context=ChangeContext(channel=ConsentChange.Channel.API, api_client=api_client),
    )
    return _shopper_session(
        channel=channel,
        customer=shopper.customer,
        account=shopper.account,
        configuration=configuration,
        requested_language=requested_language,
        cart=cart,
    )


def shopper_session_read(*, channel: str, merchant_id: str, requested_language: str | None) -> ShopperSession:
    """The session answer for the shopper with this merchant_id without creating, enrolling or changing anyone
    (LoyaltyLion's read-only get customer): no cart, so no cart actions. Raises CUSTOMER_NOT_FOUND (404) when no
    customer carries the merchant_id, AMBIGUOUS_IDENTIFIER (409) when several do."""
    configuration = loyalty_configuration_get(channel=channel, language=requested_language)
    customer = customer_by_merchant_id(merchant_id=merchant_id)
    if customer is None:
        raise ApplicationError(
            _("No customer has this merchant_id."),
            code=CrmErrorCode.CUSTOMER_NOT_FOUND,
            status=404,
            extra={"field": "merchant_id"},
        )
    return _shopper_session(
        channel=channel,
        customer=customer,
        account=session_account_get(customer=customer, program=configuration.program),
        configuration=configuration,
        requested_language=requested_language,
        cart=SessionCart(kind="empty"),
    )


class SessionStartApi(LoyaltyWriteApi):
    @extend_schema(
        operation_id="loyalty_session_start",
        summary="Start a shopper session (merchant_id in the body)",
        description=DESCRIPTION,
        parameters=PARAMETERS,
        request=SessionInputSerializer,
        responses=RESPONSES,
        examples=[*REQUEST_EXAMPLES, *RESPONSE_EXAMPLES],
        tags=[TAG],
    )
    def post(self, request: Request, merchant_id: str | None = None) -> Response:
        options_serializer = SessionOptionsInputSerializer(data=request_options(request))
        options_serializer.is_valid(raise_exception=True)
        options = options_serializer.validated_data
        serializer = SessionInputSerializer(data=request.data, context={"merchant_id": merchant_id})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requested_language = data.get("language") or options.get("language")
        cart_data = data.get("cart") or {"kind": "empty"}
        session = shopper_session_answer(
            channel=options["channel"],
            merchant_id=data["merchant_id"],
            profile=ShopperProfile(
                email=data["customer"]["email"],
                first_name=data["customer"]["first_name"],
                last_name=data["customer"]["last_name"],
                language=requested_language or "",
            ),
            requested_language=requested_language,
            cart=SessionCart(kind=cart_data["kind"], lines=cart_data.get("lines") or []),
            api_client=api_client_of(request),
        )
        with translation.override(session.language):
            return Response(SessionOutputSerializer(session).data)


class CustomerSessionStartApi(SessionStartApi):
    @extend_schema(
        operation_id="loyalty_customer_session_start",
        summary="Start a shopper session (merchant_id in the path, as LoyaltyLion)",
        description=DESCRIPTION
        + " The path's `merchant_id` may contain slashes (a Shopify GID); `merchant_id` in the body, if sent, "
        "must be the same.",
        parameters=PARAMETERS,
        request=SessionInputSerializer,
        responses=RESPONSES,
        examples=[*REQUEST_EXAMPLES, *RESPONSE_EXAMPLES],
        tags=[TAG],
    )
    def post(self, request: Request, merchant_id: str | None = None) -> Response:
        return super().post(request, merchant_id=merchant_id)
