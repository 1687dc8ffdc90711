"""Loyalty API read endpoints and PII erasure (DESIGN 5.3):

GET  /api/v1/customers/{id}            the customer 360 view, with embed= blocks       (scope loyalty:read)
GET  /api/v1/customers/lookup          the same, found by card, email, mobile or external id (loyalty:read)
POST /api/v1/points/preview            what a cart would earn; writes nothing          (loyalty:read)
GET  /api/v1/configuration             the default program's rules, tiers and rewards  (loyalty:read)
POST /api/v1/customers/{id}/erase      PII erasure that keeps the pseudonymous ledger  (scope privacy)

An erased customer answers 410 with Capillary's "Customer is deleted after PII delete request".
"""

from typing import Any

from django.utils import translation
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import input_parameter
from crm.models import ConsentChange, Customer
from crm.permissions import HasRequiredScope, api_client_of
from crm.services.context import ChangeContext
from loyalty.api.common import LoyaltyReadApi, access_error_responses, error_responses
from loyalty.api.coupon_serializers import CouponOutputSerializer
from loyalty.api.customer_serializers import (
    API_EMBEDS,
    COUPONS_EMBED,
    ConfigurationGetInputSerializer,
    ConfigurationOutputSerializer,
    CustomerErasedOutputSerializer,
    CustomerGetInputSerializer,
    CustomerLookupInputSerializer,
    LoyaltyCustomerOutputSerializer,
    PointsPreviewInputSerializer,
    PointsPreviewOutputSerializer,
)
from loyalty.api.session_serializers import request_options
from loyalty.rules.earning import PurchaseLine
from loyalty.selectors.accounts import (
    ERASED_MESSAGE,
    account_for_preview,
    customer_get_for_erasure,
    customer_get_for_loyalty,
    customer_overview_get,
    customer_public_id_by_identifier,
    loyalty_account_get_or_none,
)
from loyalty.selectors.coupons import customer_vouchers_usable_now
from loyalty.selectors.sessions import loyalty_configuration_get
from loyalty.services.privacy import customer_erase_with_loyalty_data
from loyalty.services.purchases import points_preview

TAG = "Loyalty customers"


def _error(message: str, code: str, **extra: Any) -> OpenApiExample:
    return OpenApiExample(
        code, value={"message": message, "code": code, "extra": extra}, response_only=True, status_codes=["4XX"]
    )


CUSTOMER_EXAMPLE = OpenApiExample(
    "Silver member with every embed",
    value={
        "id": "C8M4Q2T7ZK1PA",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "mobile_phone": "+12175550100",
        "birth_date": "1980-12-10",
        "language": "en-US",
        "country": "US",
        "created_at": "2026-01-05T10:00:00Z",
        "status": "active",
        "state": "enrolled",
        "account_number": "512345678903",
        "currency": "USD",
        "spendable": 1150,
        "pending": 80,
        "reserved": 0,
        "spent": 200,
        "expired": 50,
        "score": 1400,
        "owed": 0,
        "purchase_count": 9,
        "purchase_total": 1480.0,
        "tiers": [
            {
                "code": "silver",
                "name": "Silver",
                "title": "Silver member",
                "threshold": 1000,
                "since": "2026-03-01T12:00:00Z",
                "expdate": "2027-03-01T12:00:00Z",
                "points": 1400,
                "next": {"code": "gold", "name": "Gold", "threshold": 5000, "gap": 3600},
            }
        ],
        "expiry_schedule": [{"points": 400, "expdate": "2027-01-31"}, {"points": 750, "expdate": "2027-06-30"}],
        "upgrade": {
            "based_on": "points",
            "current_value": 1400,
            "next_tier": {"code": "gold", "name": "Gold"},
            "threshold": 5000,
            "gap": 3600,
            "window_days": 365,
        },
        "renewal": {
            "tier": "silver",
            "expdate": "2027-03-01T12:00:00Z",
            "keep_threshold": 800,
            "current_value": 1150,
            "gap": 0,
            "renew_confirmed": True,
        },
        "transactions": [
            {
                "transaction_id": "T-1009",
                "state": "pending",
                "total": 80.0,
                "points_earned": 80,
                "points_burned": 0,
                "purchased_at": "2026-11-20T17:30:00Z",
            }
        ],
        "addresses": [
            {
                "id": "A3XW9KQ0RB2MT",
                "first_name": "",
                "last_name": "",
                "address_line1": "1 Main St",
                "address_line2": "",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "country_code": "US",
                "phone": "",
                "is_profile_address": True,
            }
        ],
    },
    response_only=True,
    status_codes=["200"],
)
ERASED_EXAMPLE = _error(ERASED_MESSAGE, "CUSTOMER_ERASED")
NOT_FOUND_EXAMPLE = _error("Customer not found.", "CUSTOMER_NOT_FOUND", field="customer")
BAD_EMBED_EXAMPLE = OpenApiExample(
    "Unknown embed",
    value={
        "message": 'embed: Unknown embed "ledger"; expected any of ' + ", ".join(API_EMBEDS) + ".",
        "code": "validation_error",
        "extra": {"fields": {"embed": ['Unknown embed "ledger"; expected any of ...']}},
    },
    response_only=True,
    status_codes=["400"],
)
CUSTOMER_RESPONSES = {
    200: LoyaltyCustomerOutputSerializer,
    **access_error_responses(scope="loyalty:read"),
    **error_responses(
        {
            400: "Bad query parameter; the message names it.",
            404: "No such customer.",
            410: f'The customer was erased: "{ERASED_MESSAGE}".',
        }
    ),
}
EMBED_PARAMETER = input_parameter(
    CustomerGetInputSerializer, "embed", description="Comma-separated blocks to add: " + ", ".join(API_EMBEDS) + "."
)


def _customer_body(customer: Customer, embeds: frozenset[str]) -> dict[str, Any]:
    overview = customer_overview_get(
        customer=customer, account=loyalty_account_get_or_none(customer=customer), embeds=embeds - {COUPONS_EMBED}
    )
    body = dict(LoyaltyCustomerOutputSerializer(overview).data)
    if COUPONS_EMBED in embeds:
        body[COUPONS_EMBED] = CouponOutputSerializer(customer_vouchers_usable_now(customer=customer), many=True).data
    return body


class CustomerGetApi(LoyaltyReadApi):
    @extend_schema(
        operation_id="loyalty_customer_get",
        summary="A customer's 360 view",
        description=(
            "Profile, status, loyalty state (`enrolled`, `guest` for a customer without an account, `blocked`), "
            "balances from the ledger (`spendable`, `pending`, `reserved`, `spent`, `expired`, `score` = points "
            "ever earned, `owed`), orders that were not rejected (`purchase_count`, `purchase_total` net of "
            "refunds) and the current tier with the gap to the next one. `embed=` adds blocks: "
            "`expiry_schedule` (open points per expiry date, soonest first), `upgrade` (gap to the next tier), "
            "`renewal` (gap to keep the tier at its expiry; null in the entry tier), `transactions` (latest 20 "
            "purchases), `addresses` and `coupons` (issued and claimed vouchers usable now, newest first, at most "
            "50). Qualifying values are whole points, or money for spend-based programs."
        ),
        parameters=[EMBED_PARAMETER],
        responses=CUSTOMER_RESPONSES,
        examples=[CUSTOMER_EXAMPLE, BAD_EMBED_EXAMPLE, NOT_FOUND_EXAMPLE, ERASED_EXAMPLE],
        tags=[TAG],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        serializer = CustomerGetInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        customer = customer_get_for_loyalty(public_id=customer_id)
        return Response(_customer_body(customer, serializer.validated_data.get("embed", frozenset())))


class CustomerLookupApi(LoyaltyReadApi):
    @extend_schema(
        operation_id="loyalty_customer_lookup",
        summary="Find a customer by card, email, mobile or external id",
        description=(
            "Answers the same body as `GET /api/v1/customers/{id}` (and takes the same `embed=`). `card` is the "
            "loyalty account number (spaces and dashes ignored), `mobile` is compared in E.164, `external_id` "
            "is the customer's alternate id. 404 when nothing matches; 409 `AMBIGUOUS_IDENTIFIER` when several "
            "customers share the mobile number or external id."
        ),
        parameters=[
            input_parameter(CustomerLookupInputSerializer, "identifier"),
            input_parameter(CustomerLookupInputSerializer, "value"),
            EMBED_PARAMETER,
        ],
        responses={**CUSTOMER_RESPONSES, **error_responses({409: "Several customers match."})},
        examples=[
            CUSTOMER_EXAMPLE,
            _error("No customer has this email.", "CUSTOMER_NOT_FOUND", field="value"),
            OpenApiExample(
                "Unknown identifier",
                value={
                    "message": 'identifier: "phone" is not a valid choice.',
                    "code": "validation_error",
                    "extra": {"fields": {"identifier": ['"phone" is not a valid choice.']}},
                },
                response_only=True,
                status_codes=["400"],
            ),
            ERASED_EXAMPLE,
        ],
        tags=[TAG],
    )
    def get(self, request: Request) -> Response:
        serializer = CustomerLookupInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        public_id = customer_public_id_by_identifier(identifier=params["identifier"], value=params["value"])
        customer = customer_get_for_loyalty(public_id=public_id)
        return Response(_customer_body(customer, params.get("embed", frozenset())))


class PointsPreviewApi(LoyaltyReadApi):
    @extend_schema(
        operation_id="loyalty_points_preview",
        summary="Points a cart would earn (no side effects)",
        description=(
            "The earning rule applied to a cart, for display: `base` points from the program's rate, rounding "
            "and exclusions, `bonus` from the customer's tier multiplier, `points` = base + bonus. Without "
            "`customer` (or for a customer who is not enrolled) the entry tier's multiplier applies. Without "
            "`items` the whole total earns; with items only eligible lines do, never more than the total. "
            "POST only because it carries a cart: nothing is written."
        ),
        request=PointsPreviewInputSerializer,
        responses={
            200: PointsPreviewOutputSerializer,
            **access_error_responses(scope="loyalty:read"),
            **error_responses(
                {
                    400: "Bad input; the message names the field.",
                    404: "No such customer.",
                    410: "The customer was erased.",
                }
            ),
        },
        examples=[
            OpenApiExample(
                "Cart with an excluded gift card",
                value={
                    "customer": "C8M4Q2T7ZK1PA",
                    "total": "120.00",
                    "items": [
                        {"product_id": "SKU-1", "quantity": 2, "subtotal": "100.00"},
                        {"product_id": "GIFTCARD", "subtotal": "20.00"},
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Preview",
                value={"base": 100, "bonus": 50, "points": 150, "eligible_total": 100.0, "currency": "USD"},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Missing total",
                value={
                    "message": "total: This field is required.",
                    "code": "validation_error",
                    "extra": {"fields": {"total": ["This field is required."]}},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        serializer = PointsPreviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = None
        if data.get("customer"):
            account = loyalty_account_get_or_none(customer=customer_get_for_loyalty(public_id=data["customer"]))
        account = account_for_preview(account=account)
        lines = [
            PurchaseLine(
                product_id=item["product_id"],
                subtotal=item["subtotal"],
                category=item.get("category", ""),
                quantity=item["quantity"],
            )
            for item in data.get("items", [])
        ]
        result = points_preview(account=account, total=data["total"], lines=lines)
        body = {
            "base": result.base,
            "bonus": result.bonus,
            "total": result.total,
            "eligible_total": result.eligible_total,
            "currency": account.program.currency,
        }
        return Response(PointsPreviewOutputSerializer(body).data)


CONFIGURATION_EXAMPLE = {
    "channel": "web",
    "currency": "usd",
    "language": "en",
    "program": {"code": "default", "name": "Loyalty program"},
    "earn_rate": 1.0,
    "rounding": "down",
    "basis": "transaction",
    "pending_days": 14,
    "points_expiry_days": 365,
    "burn_value": 0.01,
    "tier_qualification": "points",
    "tier_window_days": 365,
    "tier_validity_days": 365,
    "tiers": [
        {
            "code": "member",
            "name": "Member",
            "title": "Member",
            "subtitle": "Welcome",
            "rank": 0,
            "threshold": 0,
            "renewal_threshold": 0,
            "earn_multiplier": 1.0,
            "benefits": [],
        },
        {
            "code": "silver",
            "name": "Silver",
            "title": "Silver member",
            "subtitle": "",
            "rank": 1,
            "threshold": 1000,
            "renewal_threshold": 800,
            "earn_multiplier": 1.25,
            "benefits": ["Free shipping"],
        },
    ],
    "tier_configuration": {
        "boundary_mode": "points",
        "tiers": [
            {
                "id": "member",
                "name": "Member",
                "title": "Member",
                "position": 1,
                "hidden": False,
                "kind": "points",
                "lower_bound": 0,
                "upper_bound": 1000,
                "renewal_bound": 0,
                "earn_multiplier": 1.0,
                "benefit_ids": [],
            },
            {
                "id": "silver",
                "name": "Silver",
                "title": "Silver member",
                "position": 2,
                "hidden": False,
                "kind": "points",
                "lower_bound": 1000,
                "upper_bound": None,
                "renewal_bound": 800,
                "earn_multiplier": 1.25,
                "benefit_ids": ["silver:1", "silver:coupon:silver-welcome"],
            },
        ],
        "tier_benefits": [
            {"id": "silver:1", "label": "Free shipping", "secret": False, "details": None},
            {
                "id": "silver:coupon:silver-welcome",
                "label": "Silver welcome gift",
                "secret": False,
                "details": {"plaintext": "10% off your next order"},
            },
        ],
        "membership": {"mode": "rolling", "duration_days": 365, "qualifying_window_days": 365},
    },
    "rules": [
        {
            "id": "purchase",
            "kind": "purchase",
            "limit": None,
            "properties": {
                "rounding": "down",
                "basis": "transaction",
                "excluded_products": ["GIFTCARD"],
                "pending_days": 14,
                "points_expiry_days": 365,
            },
            "variants": [
                {
                    "tier_id": "member",
                    "title": "Make a purchase",
                    "description": None,
                    "enabled": True,
                    "result": {"kind": "points", "points": 1.0, "per_currency_unit": 1.0},
                    "result_short_text": "1 point per USD 1",
                },
                {
                    "tier_id": "silver",
                    "title": "Make a purchase",
                    "description": None,
                    "enabled": True,
                    "result": {"kind": "points", "points": 1.25, "per_currency_unit": 1.0},
                    "result_short_text": "1.25 points per USD 1",
                },
            ],
        }
    ],
    "rewards": [
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
            "tier_ids": ["silver"],
        }
    ],
}


class ConfigurationGetApi(LoyaltyReadApi):
    @extend_schema(
        operation_id="loyalty_configuration_get",
        summary="The loyalty program's rules, tiers and rewards",
        description=(
            "The default program. Our keys: earn rate (points per currency unit), rounding (`down`, `half_up`, "
            "`up`), basis (`transaction` or `item`), pending days (return window), points expiry days (null: "
            "never), burn value (currency per point), what tiers qualify on (`points` or `spend`) over which "
            "window, how long a tier lasts, and the tiers from the entry tier (rank 0) up. LoyaltyLion's "
            "configuration parts: `channel`, `currency` (lower-case ISO 4217), `language` (ISO 639-1), "
            "`tier_configuration` (null without tiers) with `boundary_mode`, `tiers[]` (bounds, position 1 = "
            "entry tier, `benefit_ids`), `tier_benefits[]` and `membership`; `rules[]` (the purchase rule, one "
            "variant per tier) and `rewards[]` (active coupons that have not ended, offered on `channel`; every "
            "channel's without it). Optional `channel` (web, pos, mobile; also the `X-Channel` header) and "
            "`language` (en, de, fr, es; also `X-Language`). The session call carries the same object."
        ),
        parameters=[
            OpenApiParameter("channel", str, enum=["web", "pos", "mobile"]),
            OpenApiParameter("X-Channel", str, OpenApiParameter.HEADER, enum=["web", "pos", "mobile"]),
            input_parameter(ConfigurationGetInputSerializer, "language", blank_ignored=True),
            input_parameter(
                ConfigurationGetInputSerializer,
                "X-Language",
                field_name="language",
                location=OpenApiParameter.HEADER,
                blank_ignored=True,
            ),
        ],
        responses={
            200: ConfigurationOutputSerializer,
            **access_error_responses(scope="loyalty:read"),
            **error_responses(
                {
                    400: "Unknown channel or language; the message names it.",
                    503: "No default program is configured.",
                }
            ),
        },
        examples=[
            OpenApiExample(
                "Two tiers on points", value=CONFIGURATION_EXAMPLE, response_only=True, status_codes=["200"]
            ),
            OpenApiExample(
                "Unknown channel",
                value={
                    "message": 'channel: "store" is not a valid choice.',
                    "code": "validation_error",
                    "extra": {"fields": {"channel": ['"store" is not a valid choice.']}},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
        tags=[TAG],
    )
    def get(self, request: Request) -> Response:
        serializer = ConfigurationGetInputSerializer(data=request_options(request))
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        configuration = loyalty_configuration_get(channel=params.get("channel"), language=params.get("language"))
        with translation.override(configuration.language):
            return Response(ConfigurationOutputSerializer(configuration).data)


class CustomerEraseApi(APIView):
    required_scope = "privacy"
    permission_classes = (HasRequiredScope,)

    @extend_schema(
        operation_id="loyalty_customer_erase",
        summary="Erase a customer's PII",
        description=(
            "Removes names, contacts, birthday, identifiers, custom attributes, postal code and every address; "
            "withdraws the consents (recorded with this API client in the consent history). The pseudonymous "
            "loyalty ledger, account number and purchases stay. Afterwards the customer answers 410 here and 404 "
            "in the Clienteling SPI, and no search finds them. Idempotent: erasing again answers 200 with the "
            "same body and changes nothing. `erased_at` is when the first erasure ran. Needs scope `privacy`."
        ),
        request=None,
        responses={
            200: CustomerErasedOutputSerializer,
            **access_error_responses(scope="privacy"),
            **error_responses({404: "No such customer."}),
        },
        examples=[
            OpenApiExample(
                "Erased",
                value={"id": "C8M4Q2T7ZK1PA", "status": "erased", "erased_at": "2026-11-22T10:00:00Z"},
                response_only=True,
                status_codes=["200"],
            ),
            NOT_FOUND_EXAMPLE,
        ],
        tags=[TAG],
    )
    def post(self, request: Request, customer_id: str) -> Response:
        customer = customer_get_for_erasure(public_id=customer_id)
        context = ChangeContext(channel=ConsentChange.Channel.API, api_client=api_client_of(request))
        customer = customer_erase_with_loyalty_data(customer=customer, context=context)
        return Response(CustomerErasedOutputSerializer(customer).data)
