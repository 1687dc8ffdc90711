"""Capillary v2 customer reads, for tills and apps written against Capillary (docs/migrating-from-capillary.md):

GET /compat/capillary/v2/customers/{id}?source=INSTORE&embed=points,mlp     the customer object   (scope loyalty:read)
GET /compat/capillary/v2/customers/lookup/customerDetails?source=&identifierName=&identifierValue=&embed=
GET /compat/capillary/v2/customers/lookup?source=&identifierName=&identifierValue=   {"entity": <id>, "warnings": []}

Thin: the customer is found by the loyalty API's selectors (customer_get_for_loyalty, so an erased customer answers
as there; customer_public_id_by_identifier for the lookups) and shown from the same 360 view
(customer_overview_get). gapToUpgrade / gapToRenew = N are that view's upgrade and renewal blocks judged N days from
now, which is the selector's `now`.
"""

from datetime import UTC, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compat.capillary.authentication import CapillaryAuthentication
from compat.capillary.errors import CUSTOMER_NOT_FOUND, capillary_exception_handler
from compat.capillary.serializers import (
    SERVED_EMBEDS,
    CapillaryCustomer,
    CapillaryCustomerOutputSerializer,
    CapillaryErrorOutputSerializer,
    CustomerGetInputSerializer,
    CustomerLookupInputSerializer,
    EmbedRequest,
    EntityOutputSerializer,
    Warning,
)
from compat.ids import customer_number, customer_number_parse
from core.api.schema import input_parameter
from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.models import Customer
from crm.permissions import HasRequiredScope
from crm.selectors import customer_public_id_by_number
from loyalty.selectors.accounts import (
    ERASED_MESSAGE,
    customer_get_for_loyalty,
    customer_overview_get,
    customer_public_id_by_identifier,
    loyalty_account_get_or_none,
)

TAG = "Capillary"
# Ours: Capillary has no code for "this server keeps no such data"; the embed's block is simply left out.
UNSERVED_EMBED_WARNING = 91000


class CapillaryApi(APIView):
    authentication_classes = (CapillaryAuthentication,)
    permission_classes = (HasRequiredScope,)
    required_scope = "loyalty:read"

    def get_exception_handler(self) -> Any:
        return capillary_exception_handler


def _customer_by_path_id(customer_id: str) -> Customer:
    """Capillary's numeric id (compat/ids.py) or our public id. 404 / 410 as the loyalty API answers them."""
    number = customer_number_parse(customer_id)
    if number is None:
        return customer_get_for_loyalty(public_id=customer_id)
    public_id = customer_public_id_by_number(number=number)
    if public_id is None:
        raise ApplicationError(
            _("Customer not found."),
            code=CrmErrorCode.CUSTOMER_NOT_FOUND,
            status=404,
            extra={"field": "customer"},
        )
    return customer_get_for_loyalty(public_id=public_id)


def _capillary_customer(customer: Customer, params: dict[str, Any]) -> CapillaryCustomer:
    embed_request: EmbedRequest = params.get("embed", EmbedRequest())
    embeds = embed_request.served
    account = loyalty_account_get_or_none(customer=customer)
    gap_to_upgrade, gap_to_renew = params.get("gapToUpgrade"), params.get("gapToRenew")
    # The gap blocks are the 360 view's upgrade and renewal judged N days ahead (the selector's `now`): one view per
    # distinct N, the blocks of N = 0 inside the main one.
    blocks_by_days: dict[int, set[str]] = {0: {"expiry_schedule"} if "expirySchedules" in embeds else set()}
    if "mlp" in embeds and account is not None:
        for days, block in ((gap_to_upgrade, "upgrade"), (gap_to_renew, "renewal")):
            if days is not None:
                blocks_by_days.setdefault(days, set()).add(block)
    now = timezone.now()
    views = {
        days: customer_overview_get(
            customer=customer, account=account, embeds=frozenset(blocks), now=now + timedelta(days=days)
        )
        for days, blocks in blocks_by_days.items()
    }
    overview = views[0]
    upgrade = views[gap_to_upgrade].upgrade if gap_to_upgrade in views else None
    renewal = views[gap_to_renew].renewal if gap_to_renew in views else None
    upgrade_day = (now + timedelta(days=gap_to_upgrade)).astimezone(UTC).date() if gap_to_upgrade is not None else None
    warnings = [
        Warning(code=UNSERVED_EMBED_WARNING, message=f'embed "{name}": not available on this server')
        for name in embed_request.unserved
    ]
    return CapillaryCustomer(
        overview=overview,
        source=params["source"],
        account_id=params.get("accountId", ""),
        embeds=embeds,
        upgrade=upgrade,
        upgrade_day=upgrade_day,
        renewal=renewal,
        gap_to_upgrade=gap_to_upgrade is not None,
        gap_to_renew=gap_to_renew is not None,
        warnings=warnings,
    )


def _error_example(name: str, status: int, code: int, message: str) -> OpenApiExample:
    return OpenApiExample(
        name,
        value={"errors": [{"status": False, "code": code, "message": message}], "warnings": []},
        response_only=True,
        status_codes=[str(status)],
    )


CUSTOMER_EXAMPLE = OpenApiExample(
    "Silver member, embed=points,mlp&gapToUpgrade=0&gapToRenew=0",
    value={
        "id": 17742,
        "profiles": [
            {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "attribution": {
                    "createDate": "2026-01-05T10:00:00+00:00",
                    "modifiedDate": "2026-01-05T10:00:00+00:00",
                    "createdBy": {"code": "S001", "description": "", "name": "Main Street", "type": "STORE"},
                },
                "fields": {"dateofbirth": "10-12-1980"},
                "identifiers": [
                    {"type": "email", "value": "ada@example.com"},
                    {"type": "mobile", "value": "12175550100"},
                    {"type": "cardNumber", "value": "512345678903", "statusLabel": "ACTIVE"},
                ],
                "commChannels": [
                    {
                        "type": "email",
                        "value": "ada@example.com",
                        "primary": True,
                        "verified": False,
                        "meta": {"residence": False, "office": False},
                        "attributes": {},
                    }
                ],
                "source": "INSTORE",
                "userId": 17742,
                "accountId": "",
                "conflictingProfileList": [],
                "autoUpdateTime": "2026-01-05T10:00:00+00:00",
            }
        ],
        "loyaltyInfo": {
            "loyaltyType": "loyalty",
            "lifetimePurchases": 1200,
            "attributionV2": {"createDate": "2026-01-05T10:00:00+00:00", "createdFromSource": "instore"},
        },
        "associatedWith": "S001",
        "extendedFields": {"gender": "female", "country": "US"},
        "pointsSummary": {
            "adjusted": 0,
            "cumulativePurchases": 1200,
            "currentSlab": "Silver",
            "expired": 0,
            "lifetimePoints": 1250,
            "loyaltyId": 17742,
            "loyaltyPoints": 1050,
            "nextSlab": "Gold",
            "nextSlabDescription": "Gold member",
            "nextSlabSerialNumber": 3,
            "redeemed": 200,
            "returned": 0,
            "slabExpiryDate": "2027-02-01T10:00:00+00:00",
            "slabSNo": 2,
        },
        "upgradeStrategies": [
            {
                "upgradeBasedOn": "CURRENT_POINTS",
                "upgradeThreshold": 5000,
                "customerUpgradeEntityValues": {
                    "currentValue": 1250,
                    "gapToUpgrade": 3750,
                    "valueValidUpto": "2026-06-01",
                },
            }
        ],
        "warnings": [],
    },
    response_only=True,
    status_codes=["200"],
)
NOT_FOUND_EXAMPLE = _error_example("Not found", 404, CUSTOMER_NOT_FOUND, "Customer not found for the given identifiers")
ERASED_EXAMPLE = _error_example("Erased (PII delete)", 410, 410, ERASED_MESSAGE)
NO_SOURCE_EXAMPLE = _error_example("No source", 400, 8012, "source: This field is required.")
ERROR_RESPONSES = {
    status: OpenApiResponse(CapillaryErrorOutputSerializer, description=text)
    for status, text in {
        400: "Bad query parameter, named in the message (code 8012 source, 8013 identifier, 400 others).",
        401: "No or a wrong key (code 401).",
        403: "The key lacks the loyalty:read scope (code 403).",
        404: "No such customer (code 8015).",
        409: "Several customers share the mobile or external id (code 409).",
        410: f'The customer was erased: "{ERASED_MESSAGE}" (code 410).',
        429: "Rate limit spent (code 429).",
        503: "No default loyalty program (code 503).",
    }.items()
}
EMBED_AND_GAP_PARAMETERS = [
    input_parameter(CustomerGetInputSerializer, "source"),
    input_parameter(CustomerGetInputSerializer, "accountId"),
    OpenApiParameter(
        "embed",
        {"type": "array", "items": {"type": "string"}, "maxItems": 40},
        explode=True,
        description="Comma-separated or repeated. With data here: "
        + ", ".join(SERVED_EMBEDS)
        + ". Other names are not refused: a warning (code 91000) names each.",
    ),
    input_parameter(CustomerGetInputSerializer, "gapToUpgrade"),
    input_parameter(CustomerGetInputSerializer, "gapToRenew"),
]
DESCRIPTION = (
    "Capillary's customer object: `id` (our stable customer number), `profiles[]` (names, attribution, "
    "`identifiers` email / mobile / externalId / cardNumber, `commChannels`), `loyaltyInfo`, `associatedWith`, "
    "`extendedFields`, `warnings`. `embed=points` adds `pointsSummary`, `mlp` adds `loyaltyProgramDetails` (and "
    "with `gapToUpgrade` / `gapToRenew`, `upgradeStrategies` and `gapToRenewSummary`), `expirySchedules` and "
    "`segments` (empty) their blocks. Other published embeds have no data here and add a warning instead."
)


class CustomerGetCapillaryApi(CapillaryApi):
    @extend_schema(
        operation_id="capillary_customer_get",
        summary="Get customer details by id (Capillary v2)",
        description=DESCRIPTION + " `{id}` is the numeric id or our public customer id.",
        parameters=EMBED_AND_GAP_PARAMETERS,
        responses={200: CapillaryCustomerOutputSerializer, **ERROR_RESPONSES},
        examples=[CUSTOMER_EXAMPLE, NOT_FOUND_EXAMPLE, ERASED_EXAMPLE, NO_SOURCE_EXAMPLE],
        tags=[TAG],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        serializer = CustomerGetInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        customer = _customer_by_path_id(customer_id)
        data = _capillary_customer(customer, serializer.validated_data)
        return Response(CapillaryCustomerOutputSerializer(data).data)


LOOKUP_PARAMETERS = [
    input_parameter(CustomerLookupInputSerializer, "identifierName"),
    input_parameter(CustomerLookupInputSerializer, "identifierValue"),
]


class CustomerDetailsLookupCapillaryApi(CapillaryApi):
    @extend_schema(
        operation_id="capillary_customer_details_lookup",
        summary="Get customer details by identifier (Capillary v2)",
        description=DESCRIPTION
        + " `identifierName`: mobile, email, externalId (the shop's own id) or cardnumber (the loyalty card or "
        "account number).",
        parameters=[*EMBED_AND_GAP_PARAMETERS, *LOOKUP_PARAMETERS],
        responses={200: CapillaryCustomerOutputSerializer, **ERROR_RESPONSES},
        examples=[CUSTOMER_EXAMPLE, NOT_FOUND_EXAMPLE, ERASED_EXAMPLE],
        tags=[TAG],
    )
    def get(self, request: Request) -> Response:
        serializer = CustomerLookupInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        public_id = customer_public_id_by_identifier(
            identifier=params["identifierName"], value=params["identifierValue"]
        )
        customer = customer_get_for_loyalty(public_id=public_id)
        return Response(CapillaryCustomerOutputSerializer(_capillary_customer(customer, params)).data)


class CustomerIdLookupCapillaryApi(CapillaryApi):
    @extend_schema(
        operation_id="capillary_customer_id_lookup",
        summary="Get customer id by identifier (Capillary v2)",
        description='`{"entity": <id>, "warnings": []}`: the numeric id that GET /v2/customers/{id} takes.',
        parameters=[
            input_parameter(CustomerLookupInputSerializer, "source"),
            input_parameter(CustomerLookupInputSerializer, "accountId"),
            *LOOKUP_PARAMETERS,
        ],
        responses={200: EntityOutputSerializer, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Found", value={"entity": 306, "warnings": []}, response_only=True, status_codes=["200"]),
            NOT_FOUND_EXAMPLE,
        ],
        tags=[TAG],
    )
    def get(self, request: Request) -> Response:
        serializer = CustomerLookupInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        public_id = customer_public_id_by_identifier(
            identifier=params["identifierName"], value=params["identifierValue"]
        )
        customer = customer_get_for_loyalty(public_id=public_id)
        return Response(EntityOutputSerializer({"entity": customer_number(customer), "warnings": []}).data)
