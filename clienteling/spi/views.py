"""Clienteling SPI (Salesforce Commerce Point of Sale, formerly Retail Cloud / PredictSpring), version 2.3.x.

CREATE_CUSTOMER    POST /endpoint/sa/customers
UPDATE_CUSTOMER    PUT  /endpoint/sa/customers          (the id travels in profile.customerId)
SEARCH_CUSTOMERS   GET  /endpoint/sa/customers?firstName=&lastName=&email=&phone=&loyaltyId=&postalCode=&customerId=
GET_CUSTOMER       GET  /endpoint/sa/customers/{customerId}

The vendor puts three operations on one path, so CustomerCollectionSpiApi answers three methods; each method
is one operation with its own input serializer and service call.

CREATE_CUSTOMER honours an `Idempotency-Key` header as the loyalty events API does (core/idempotency.py, keys
scoped per API client): the same key and body again answers the first response with `Idempotent-Replayed: true`.
"""

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from clienteling.error_codes import SpiErrorCode
from clienteling.mapping import without_empty_values
from clienteling.spi import schema_examples as examples
from clienteling.spi.errors import spi_exception_handler
from clienteling.spi.serializers import (
    CustomerInputSerializer,
    CustomerOutputSerializer,
    CustomerSearchInputSerializer,
    CustomerUpdateQueryInputSerializer,
)
from core.api.schema import IDEMPOTENCY_KEY_SCHEMA, input_parameter
from core.exceptions import ApplicationError
from core.idempotency import HEADER as IDEMPOTENCY_KEY_HEADER
from core.idempotency import REPLAYED_HEADER, idempotency_key_clean, idempotent_call
from crm.models import ConsentChange, Customer
from crm.permissions import HasRequiredScope, api_client_of
from crm.selectors import (
    CustomerSearchCriteria,
    api_client_store_check,
    customer_get,
    customer_profile_queryset,
    customer_search,
)
from crm.services.context import ChangeContext
from loyalty.models import CouponDefinition
from loyalty.selectors.accounts import (
    customer_order_count_annotation,
    customer_pks_by_loyalty_id,
    loyalty_accounts_with_activity_prefetch,
)
from loyalty.selectors.coupons import customer_vouchers_usable_prefetch
from loyalty.services.customers import customer_profile_update, customer_sign_up
from loyalty.services.purchases import request_fingerprint


class SpiErrorOutputSerializer(serializers.Serializer):
    """What every SPI error answers but a 401 (clienteling/spi/errors.py)."""

    errorCode = serializers.CharField()
    errorMessage = serializers.CharField()
    customerId = serializers.CharField(
        required=False, help_text="Only with 409 EMAIL_ALREADY_IN_USE: the customer who has the email."
    )


class _SpiOutputSchema(OpenApiSerializerExtension):
    """An SPI output as the wire carries it: spi_customer_representation drops None, "" and {} at every depth, so
    only the properties in `always_present` are required (and none is ever null)."""

    always_present: tuple[str, ...] = ()

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        required = [name for name in schema.get("required", []) if name in self.always_present]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema


# Each output serializer of the SPI customer, with the properties that are never empty.
_SPI_OUTPUT_ALWAYS_PRESENT = {
    "CustomerOutputSerializer": ("profile", "addressList", "orderCount", "orderList"),
    "ProfileOutputSerializer": ("customerId", "createdDate", "lastModifiedDate"),
    "AddressOutputSerializer": ("addressId",),
    "TaxInfoOutputSerializer": (),
    "LoyaltyProfileOutputSerializer": (
        "accountNumber",
        "currentPoints",
        "cashRewards",
        "currentStoreCredit",
        "customLoyaltyAttributes",
        "coupons",
    ),
    "SpiCouponOutputSerializer": ("code", "type", "value", "status", "autoApply"),
    "OrderOutputSerializer": ("orderId", "orderTotal", "pointsEarned"),
    "StoreAttributionOutputSerializer": (),
}
for _name, _always_present in _SPI_OUTPUT_ALWAYS_PRESENT.items():
    type(
        f"{_name}Schema",
        (_SpiOutputSchema,),
        {"target_class": f"clienteling.spi.serializers.{_name}", "always_present": _always_present},
    )


_BARE_ALTERNATIVE = (
    " With `SPI_RESPONSE_ENVELOPE=bare` (a deployment setting) the {name} comes unwrapped, as the value of "
    "`{key}` alone."
)
_CUSTOMER_ENVELOPE = ' The response is `{"customer": {...}}`.' + _BARE_ALTERNATIVE.format(
    name="customer object", key="customer"
)
_CUSTOMERS_ENVELOPE = ' The response is `{"customers": [...]}`.' + _BARE_ALTERNATIVE.format(
    name="list", key="customers"
)


class CustomerEnvelopeOutputSerializer(serializers.Serializer):
    customer = CustomerOutputSerializer(
        help_text="The customer, wrapped as the default `SPI_RESPONSE_ENVELOPE=wrapped` answers."
        + _BARE_ALTERNATIVE.format(name="customer object", key="customer")
    )


class CustomerListEnvelopeOutputSerializer(serializers.Serializer):
    customers = CustomerOutputSerializer(
        many=True,
        help_text="The customers found, wrapped as the default `SPI_RESPONSE_ENVELOPE=wrapped` answers."
        + _BARE_ALTERNATIVE.format(name="list", key="customers"),
    )


_SPI_ERROR_STATUSES = {
    400: (
        "VALIDATION_ERROR (a field's type, length, characters or format), INVALID_JSON or INVALID_REQUEST (not "
        "JSON, not an object, nested deeper than 32 levels), IDENTITY_REQUIRED, INVALID_FIELD, EMPTY_SEARCH, "
        "MISSING_CUSTOMER_ID, IDEMPOTENCY_KEY_INVALID, INVALID_CARD_NUMBER (profile.loyaltyId breaks the program's "
        "card rules: length, check digit), LOYALTY_SIGN_UP_REQUIRED (profile.loyaltyId for a customer who is not and "
        "does not become a member)."
    ),
    403: (
        "FORBIDDEN: the key lacks the clienteling scope; STORE_NOT_ALLOWED: it is restricted to other stores than "
        "storeAttribution.storeId; STORE_REQUIRED: it is restricted to some stores and CREATE_CUSTOMER names none."
    ),
    404: (
        "CUSTOMER_NOT_FOUND: no such customer, or one erased; UPDATE_CUSTOMER also ADDRESS_NOT_FOUND: an addressList "
        "entry's addressId the customer does not have."
    ),
    422: (
        "LOYALTY_ID_NOT_ACCEPTED: profile.loyaltyId sent to a program that issues its own card numbers (its "
        "'POS card numbers' setting); send the request without it."
    ),
    409: (
        "EMAIL_ALREADY_IN_USE (customerId names the customer who has the email); LOYALTY_ID_ALREADY_IN_USE (another "
        "customer holds the card number in profile.loyaltyId; names nobody); IDEMPOTENCY_KEY_REUSED or "
        "IDEMPOTENCY_REQUEST_IN_PROGRESS."
    ),
    413: "PAYLOAD_TOO_LARGE: the body is larger than 1 MiB.",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json.",
    429: "TOO_MANY_REQUESTS: the key's rate limit is spent; Retry-After says when to try again.",
    500: "INTERNAL_SERVER_ERROR: a fault of ours; the message is generic.",
}


def spi_error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses an SPI operation can answer: 401 with an empty body (and its WWW-Authenticate
    challenge), the others `{"errorCode", "errorMessage"}`."""
    responses = {401: OpenApiResponse(description="No key, or a wrong or deactivated key. The body is empty.")}
    for status in statuses:
        responses[status] = OpenApiResponse(SpiErrorOutputSerializer, description=_SPI_ERROR_STATUSES[status])
    return dict(sorted(responses.items()))


def spi_customer_queryset() -> Any:
    """The full SPI customer in a fixed number of queries: the customer row (with its order count annotated),
    addresses, loyalty accounts (with balances, qualifying value and next tier annotated), their latest
    purchases, and the vouchers usable at the till (loyaltyProfile.coupons)."""
    return (
        customer_profile_queryset()
        .annotate(order_count=customer_order_count_annotation())
        .prefetch_related(
            loyalty_accounts_with_activity_prefetch(),
            customer_vouchers_usable_prefetch(channel=CouponDefinition.Channel.POS),
        )
    )


def spi_customer_representation(customer: Customer) -> dict[str, Any]:
    data = without_empty_values(dict(CustomerOutputSerializer(customer).data))
    if settings.SPI_EMIT_LEGACY_LOYALTY_PROFILE and "loyaltyProfile" in data:
        data["customerLoyaltyProfile"] = data["loyaltyProfile"]
    return data


def spi_envelope(key: str, payload: Any) -> Any:
    return {key: payload} if settings.SPI_RESPONSE_ENVELOPE == "wrapped" else payload


def _unwrapped_body(data: Any) -> dict[str, Any]:
    """Bodies come bare (`{"profile": ...}`) or wrapped (`{"customer": {...}}`)."""
    if not isinstance(data, dict):
        raise ApplicationError(_("The request body must be a JSON object."), code=SpiErrorCode.INVALID_REQUEST)
    if set(data) == {"customer"}:
        if not isinstance(data["customer"], dict):
            raise ApplicationError(
                _('The value of "customer" must be a JSON object.'), code=SpiErrorCode.INVALID_REQUEST
            )
        return data["customer"]
    return data


def _service_arguments(request: Request, validated: dict[str, Any], *, store_required: bool) -> dict[str, Any]:
    """The sign-up or update service's arguments: the profile, consents and addresses, and the store and associate
    the change is attributed to, once the API key is known to act for that store (403 STORE_NOT_ALLOWED) and, with
    `store_required`, to have named one if it is restricted to some stores (403 STORE_REQUIRED)."""
    client = api_client_of(request)
    attribution = validated.get("store_attribution", {})
    store_code = attribution.get("store_id") or None
    api_client_store_check(client=client, store_code=store_code, field="store_id", store_required=store_required)
    profile = dict(validated.get("profile", {}))
    profile.pop("customer_id", None)
    loyalty_id = profile.pop("loyalty_id", None)
    profile_address = profile.pop("address", None)
    return {
        "fields": profile,
        "consents": dict(validated.get("consents", {})),
        "profile_address": profile_address or None,
        "addresses": [address for address in validated.get("address_list", []) if address],
        "context": ChangeContext(channel=ConsentChange.Channel.POS, api_client=client),
        "store_code": store_code,
        "associate_code": attribution.get("associate_id") or None,
        "loyalty_id": loyalty_id or None,
    }


def _customer_signed_up_body(arguments: dict[str, Any]) -> Any:
    """Sign the customer up and render the response; with an Idempotency-Key this runs in the key's transaction,
    so that the response is stored with the customer."""
    customer = customer_sign_up(**arguments)
    customer = customer_get(public_id=customer.public_id, queryset=spi_customer_queryset())
    return spi_envelope("customer", spi_customer_representation(customer))


def _as_json(body: Any) -> Any:
    """The body as the JSON renderer writes it (DRF's encoder turns decimals into numbers), fit to be stored."""
    return json.loads(json.dumps(body, cls=JSONEncoder))


class SpiApi(APIView):
    required_scope = "clienteling"
    permission_classes = (HasRequiredScope,)

    def get_exception_handler(self) -> Any:
        return spi_exception_handler


class CustomerCollectionSpiApi(SpiApi):
    @extend_schema(
        operation_id="CREATE_CUSTOMER",
        summary="CREATE_CUSTOMER: sign a customer up",
        description=(
            "Creates a customer from the Customer Signup layout. With `consents.loyaltySignUp: true` the customer "
            "is enrolled in the default loyalty program: the address goes to `profile.address`, "
            "`loyaltyProfile.address` and `addressList`, and a loyalty account number is assigned, or the card number "
            "in `profile.loyaltyId` (a pre-printed card handed out at the till) becomes account and card number when "
            "it is free (else 409 `LOYALTY_ID_ALREADY_IN_USE`), passes the program's card rules (else 400) and the "
            "program accepts POS card numbers (else 422 `LOYALTY_ID_NOT_ACCEPTED`). The body may be "
            "bare or wrapped in `customer`. A key restricted to some stores must name one of them in "
            "`storeAttribution.storeId`: another store is 403 `STORE_NOT_ALLOWED`, none is 403 `STORE_REQUIRED`."
            + _CUSTOMER_ENVELOPE
        ),
        request=CustomerInputSerializer,
        responses={
            200: CustomerEnvelopeOutputSerializer,
            **spi_error_responses(400, 403, 409, 413, 415, 422, 429, 500),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                IDEMPOTENCY_KEY_SCHEMA,
                OpenApiParameter.HEADER,
                description=(
                    "Up to 255 printable characters, kept 24 hours per API key. The same key and body again "
                    "answers the first response (with `Idempotent-Replayed: true`) and creates nothing; the same "
                    "key with another body is 409 `IDEMPOTENCY_KEY_REUSED`; while the first request still runs, "
                    "409 `IDEMPOTENCY_REQUEST_IN_PROGRESS`. Only successful responses are kept."
                ),
            )
        ],
        examples=[
            examples.CREATE_REQUEST,
            examples.CREATE_WITH_CARD_REQUEST,
            examples.CREATE_RESPONSE,
            examples.ERROR_RESPONSE,
            examples.LOYALTY_ID_INVALID_RESPONSE,
            examples.LOYALTY_ID_IN_USE_RESPONSE,
            examples.LOYALTY_ID_NOT_ACCEPTED_RESPONSE,
        ],
        tags=["Clienteling SPI"],
    )
    def post(self, request: Request) -> Response:
        serializer = CustomerInputSerializer(data=_unwrapped_body(request.data))
        serializer.is_valid(raise_exception=True)
        header = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        key = "" if header is None else idempotency_key_clean(header)
        arguments = _service_arguments(request, serializer.validated_data, store_required=True)
        # 200 rather than 201: the vendor documents "a response with the new customer object" and connectors
        # are configured per operation, so the plainest success status is the safest.
        if not key:
            return Response(_customer_signed_up_body(arguments))
        result = idempotent_call(
            owner=f"api_client:{api_client_of(request).pk}",
            key=key,
            fingerprint=request_fingerprint({"endpoint": "spi/customers", "body": request.data}),
            work=lambda: (200, _as_json(_customer_signed_up_body(arguments))),
        )
        return Response(result.body, status=result.status, headers={REPLAYED_HEADER: "true"} if result.replayed else {})

    @extend_schema(
        operation_id="UPDATE_CUSTOMER",
        summary="UPDATE_CUSTOMER: merge changes into a customer",
        description=(
            "Updates the customer named by `profile.customerId`. What is not sent stays unchanged; consents merge "
            "key by key; `consents.loyaltySignUp: false` makes a member a guest (as the loyalty API's opt_out: the "
            "account and its points stay, `loyaltyProfile` and `profile.loyaltyId` are left out) and `true` "
            "re-enrols the same account. A `profile.loyaltyId` that is not yet the customer's becomes another card "
            "of their account (the account number stays). `profile.address: null` clears the profile and loyalty "
            "addresses (the entry stays in `addressList`). A new `profile.address` replaces"
            " the profile and loyalty addresses and is appended to "
            "`addressList` (old entries stay; an identical address is not added twice); addresses in `addressList` "
            "are appended, and an entry carrying its `addressId` changes that address in place (fields sent replace, "
            'null or "" clears; an `addressId` the customer does not have is 404 `ADDRESS_NOT_FOUND`).'
            + _CUSTOMER_ENVELOPE
        ),
        request=CustomerInputSerializer,
        responses={
            200: CustomerEnvelopeOutputSerializer,
            **spi_error_responses(400, 403, 404, 409, 413, 415, 422, 429, 500),
        },
        parameters=[
            input_parameter(
                CustomerUpdateQueryInputSerializer,
                "customerId",
                description="The customer to update, for connectors that do not send profile.customerId (which "
                "wins when both are sent).",
            )
        ],
        examples=[
            examples.UPDATE_REQUEST,
            examples.LOYALTY_CONSENT_WITHDRAWN_REQUEST,
            examples.UPDATE_RESPONSE,
            examples.ERROR_RESPONSE,
            examples.LOYALTY_ID_IN_USE_RESPONSE,
            examples.LOYALTY_ID_NOT_ACCEPTED_RESPONSE,
        ],
        tags=["Clienteling SPI"],
    )
    def put(self, request: Request) -> Response:
        body = _unwrapped_body(request.data)
        serializer = CustomerInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
        query = CustomerUpdateQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer_id = validated.get("profile", {}).get("customer_id") or query.validated_data.get("customer_id")
        if not customer_id:
            raise ApplicationError(
                _("Required: the id of the customer to update."),
                code=SpiErrorCode.MISSING_CUSTOMER_ID,
                extra={"field": "customer_id"},
            )
        # A profile change attributes to a store only when the till names one: the customer record is not
        # store-scoped, so a restricted key's update without storeAttribution records no store rather than failing.
        # `profile.address: null` clears the profile address (null clears a field); left out, it stays.
        profile_address_clear = "address" in validated.get("profile", {}) and validated["profile"]["address"] is None
        customer_profile_update(
            public_id=customer_id,
            profile_address_clear=profile_address_clear,
            **_service_arguments(request, validated, store_required=False),
        )
        customer = customer_get(public_id=customer_id, queryset=spi_customer_queryset())
        return Response(spi_envelope("customer", spi_customer_representation(customer)))

    @extend_schema(
        operation_id="SEARCH_CUSTOMERS",
        summary="SEARCH_CUSTOMERS: find customers",
        description=(
            "All given criteria must match: `firstName` and `lastName` by prefix, case- and accent-insensitive; "
            "`email`, `phone` (mobile or home, normalised to E.164), `loyaltyId` (account or card number), "
            "`postalCode` (profile or any address) and `customerId` exactly. At least one criterion is required. "
            "Results are ordered by last name, first name and bounded by `limit` (default 20, at most 100)."
            + _CUSTOMERS_ENVELOPE
        ),
        parameters=[
            input_parameter(CustomerSearchInputSerializer, "firstName", description="Prefix of the first name."),
            input_parameter(CustomerSearchInputSerializer, "lastName", description="Prefix of the last name."),
            input_parameter(CustomerSearchInputSerializer, "email"),
            input_parameter(CustomerSearchInputSerializer, "phone", description="Any format; compared in E.164."),
            input_parameter(CustomerSearchInputSerializer, "phoneMobile", description="Alias of phone."),
            input_parameter(
                CustomerSearchInputSerializer,
                "loyaltyId",
                description="Account or card number; spaces and dashes ignored.",
            ),
            input_parameter(CustomerSearchInputSerializer, "postalCode"),
            input_parameter(CustomerSearchInputSerializer, "customerId"),
            input_parameter(
                CustomerSearchInputSerializer,
                "limit",
                description="At least 1, default 20; more than 100 answers 100 at most.",
            ),
        ],
        responses={200: CustomerListEnvelopeOutputSerializer, **spi_error_responses(400, 403, 429, 500)},
        examples=[examples.SEARCH_RESPONSE, examples.ERROR_RESPONSE],
        tags=["Clienteling SPI"],
    )
    def get(self, request: Request) -> Response:
        serializer = CustomerSearchInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        loyalty_id = (params.get("loyalty_id") or "").strip()
        criteria = CustomerSearchCriteria(
            first_name=params.get("first_name") or "",
            last_name=params.get("last_name") or "",
            email=params.get("email") or "",
            phone=params.get("phone") or params.get("phone_mobile") or "",
            postal_code=params.get("postal_code") or "",
            customer_id=params.get("customer_id") or "",
            restrict_to_pks=customer_pks_by_loyalty_id(loyalty_id=loyalty_id) if loyalty_id else None,
        )
        limit = min(params.get("limit") or settings.SPI_SEARCH_DEFAULT_LIMIT, settings.SPI_SEARCH_MAX_LIMIT)
        customers = customer_search(criteria=criteria, limit=limit, queryset=spi_customer_queryset())
        return Response(spi_envelope("customers", [spi_customer_representation(c) for c in customers]))


class CustomerDetailSpiApi(SpiApi):
    @extend_schema(
        operation_id="GET_CUSTOMER",
        summary="GET_CUSTOMER: one customer for Customer 360",
        description="The customer with this id; an erased one is not found." + _CUSTOMER_ENVELOPE,
        responses={200: CustomerEnvelopeOutputSerializer, **spi_error_responses(403, 404, 429, 500)},
        examples=[examples.CREATE_RESPONSE, examples.NOT_FOUND_RESPONSE],
        tags=["Clienteling SPI"],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        customer = customer_get(public_id=customer_id, queryset=spi_customer_queryset())
        return Response(spi_envelope("customer", spi_customer_representation(customer)))
