"""Antavo's dialect over our loyalty core (docs/migrating-from-antavo.md), mounted at /compat/antavo/:

POST /events                  one event, Antavo's Events API (scope loyalty:write)
POST /events/bulk             events processed one by one, in order; results per event (loyalty:write)
GET  /customers/{id}          Antavo's Customer object (loyalty:read)
GET  /customers/{id}/coupons  the customer's coupons, Antavo's fields and filters (loyalty:read)

The views parse with Antavo's shapes, call the loyalty core's services and selectors (the events service with the
customer id read as an Antavo id, crm.ExternalCustomerId source "antavo") and render Antavo's bodies and errors.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compat.antavo import schema  # noqa: F401  (registers the authentication scheme with drf-spectacular)
from compat.antavo import schema_examples as examples
from compat.antavo.authentication import AntavoAuthentication
from compat.antavo.errors import antavo_error_body, antavo_exception_handler
from compat.antavo.serializers import (
    AntavoBulkOutputSerializer,
    AntavoCouponListOutputSerializer,
    AntavoCustomerCouponsInputSerializer,
    AntavoCustomerOutputSerializer,
    AntavoErrorOutputSerializer,
    AntavoEventBulkInputSerializer,
    AntavoEventOutputSerializer,
    antavo_bulk_result,
    antavo_coupon_body,
    antavo_customer_body,
    antavo_event_body,
    customer_id_source,
    event_from_antavo_payload,
)
from core.api.exception_handler import normalise_exception
from core.exceptions import ApplicationError
from crm.models import ApiClient
from crm.permissions import HasRequiredScope, api_client_of
from crm.selectors import api_client_store_check
from loyalty.api.events import STORE_RECORDING_ACTIONS
from loyalty.models import CouponDefinition, Purchase, Voucher
from loyalty.selectors.accounts import (
    customer_get_for_loyalty_by_external_id,
    customer_overview_get,
    loyalty_account_get_or_none,
)
from loyalty.selectors.coupons import customer_vouchers_matching
from loyalty.services.events import Event, EventOutcome, event_bulk_process, event_process

TAG = "Antavo"
# Antavo lists every coupon of a customer; a bound keeps one request from reading thousands.
COUPONS_MAX = 500

Body = dict[str, Any]


class AntavoApi(APIView):
    authentication_classes = (AntavoAuthentication,)
    permission_classes = (HasRequiredScope,)

    def get_exception_handler(self) -> Any:
        return antavo_exception_handler


def _errors(statuses: dict[int, str]) -> dict[int, OpenApiResponse]:
    common = {
        401: "UnauthorizedException: no API key, a wrong one, or a missing or wrong Escher signature.",
        403: "ForbiddenException: the key lacks the scope, or may not act for the store named.",
        429: "TooManyRequestsException: the key's rate limit is spent; Retry-After says when to try again.",
    }
    return {
        status: OpenApiResponse(AntavoErrorOutputSerializer, description=text)
        for status, text in {**common, **statuses}.items()
    }


API_KEY_PARAMETER = OpenApiParameter(
    "api_key",
    str,
    OpenApiParameter.QUERY,
    description="The API key (also accepted in the POST body, or as the Escher Credential).",
)


def _store_check(event: Event, client: ApiClient) -> None:
    api_client_store_check(
        client=client,
        store_code=event.data.get("store_id"),
        field="data.store_id",
        store_required=event.action in STORE_RECORDING_ACTIONS,
    )


class AntavoEventCreateApi(AntavoApi):
    required_scope = "loyalty:write"

    @extend_schema(
        operation_id="antavo_event_create",
        summary="Submit an Antavo event",
        description=examples.EVENT_DESCRIPTION,
        parameters=[API_KEY_PARAMETER],
        request=examples.EVENT_REQUEST,
        responses={
            200: AntavoEventOutputSerializer,
            **_errors(
                {
                    400: "BadRequestException: bad input (113401 names a missing parameter); 160216 the customer "
                    "is not active; 120241 not enough points.",
                    404: "NotFoundException 160212: no customer has this Antavo id (events other than opt_in).",
                    409: "ConflictException: ERR_TX_ALREADY_EXISTS (a transaction id sent with other content), "
                    "EMAIL_ALREADY_IN_USE, EXTERNAL_ID_CONFLICT.",
                    422: "UnprocessableEntityException: a refund larger than what is left; a coupon not eligible.",
                }
            ),
        },
        examples=examples.EVENT_EXAMPLES,
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        event = event_from_antavo_payload(request.data)
        client = api_client_of(request)
        _store_check(event, client)
        outcome = event_process(event=event, client=client, render=antavo_event_body)
        return Response({"id": event.customer, **outcome.body})


Refusal = ApplicationError | DjangoValidationError | exceptions.ValidationError


def _refusal_body(error: Exception) -> Body:
    normalised = normalise_exception(error)
    if normalised is None:  # pragma: no cover - only the refusals above reach here
        raise error
    return antavo_error_body(normalised)[1]


def _bulk_body(payloads: list[Any], client: ApiClient) -> Body:
    """Antavo's bulk answer: one result per event, in order, each the event's `events` or its `error`."""
    parsed: list[Event | Exception] = []
    for payload in payloads:
        try:
            event = event_from_antavo_payload(payload)
            _store_check(event, client)
        except (ApplicationError, DjangoValidationError, exceptions.ValidationError) as error:
            parsed.append(error)
        else:
            parsed.append(event)
    events = [item for item in parsed if isinstance(item, Event)]
    outcomes = iter(event_bulk_process(events=events, client=client, render=antavo_event_body))
    results = []
    for item in parsed:
        outcome = next(outcomes) if isinstance(item, Event) else item
        if isinstance(outcome, EventOutcome):
            results.append(antavo_bulk_result(outcome.body))
        else:
            results.append(_refusal_body(outcome if isinstance(outcome, Exception) else outcome.error))
    return {"results": results, "total": len(results), "errors": sum(1 for result in results if "error" in result)}


class AntavoEventBulkCreateApi(AntavoApi):
    required_scope = "loyalty:write"

    @extend_schema(
        operation_id="antavo_event_bulk_create",
        summary="Submit Antavo events in bulk",
        description=examples.BULK_DESCRIPTION,
        parameters=[API_KEY_PARAMETER],
        request=AntavoEventBulkInputSerializer,
        responses={200: AntavoBulkOutputSerializer, **_errors({400: "BadRequestException: `events` is not a list."})},
        examples=examples.BULK_EXAMPLES,
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        serializer = AntavoEventBulkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(_bulk_body(serializer.validated_data["events"], api_client_of(request)))


CUSTOMER_ID_PARAMETER = OpenApiParameter(
    "customer_id", str, OpenApiParameter.PATH, description="Antavo's customer id (up to 128 characters)."
)


class AntavoCustomerGetApi(AntavoApi):
    required_scope = "loyalty:read"

    @extend_schema(
        operation_id="antavo_customer_get",
        summary="An Antavo customer",
        description=examples.CUSTOMER_DESCRIPTION,
        parameters=[CUSTOMER_ID_PARAMETER, API_KEY_PARAMETER],
        responses={
            200: AntavoCustomerOutputSerializer,
            **_errors({404: "NotFoundException 160212: no customer has this Antavo id."}),
        },
        examples=[examples.CUSTOMER_EXAMPLE, examples.NOT_FOUND_EXAMPLE],
        tags=[TAG],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        customer = customer_get_for_loyalty_by_external_id(source=customer_id_source(), external_id=customer_id)
        overview = customer_overview_get(
            customer=customer,
            account=loyalty_account_get_or_none(customer=customer),
            embeds=frozenset({"renewal", "transactions"}),
        )
        last_purchase = next(
            (
                purchase.purchased_at.date()
                for purchase in overview.transactions or []
                if purchase.state != Purchase.State.REJECTED
            ),
            None,
        )
        return Response(antavo_customer_body(overview, customer_id=customer_id, last_purchase=last_purchase))


# Antavo's coupon filter values -> ours.
STATUS_FILTERS = {
    "claimed": [Voucher.Status.ISSUED, Voucher.Status.CLAIMED],
    "redeemed": [Voucher.Status.REDEEMED],
    "expired": [Voucher.Status.EXPIRED],
    "invalid": [Voucher.Status.CANCELLED],
}
TYPE_FILTERS = {
    "percentage": CouponDefinition.Kind.PERCENT,
    "percent": CouponDefinition.Kind.PERCENT,
    "amount": CouponDefinition.Kind.AMOUNT,
    "free_item": CouponDefinition.Kind.FREE_ITEM,
}


class AntavoCustomerCouponListApi(AntavoApi):
    required_scope = "loyalty:read"

    @extend_schema(
        operation_id="antavo_customer_coupon_list",
        summary="An Antavo customer's coupons",
        description=examples.COUPONS_DESCRIPTION,
        parameters=[CUSTOMER_ID_PARAMETER, AntavoCustomerCouponsInputSerializer, API_KEY_PARAMETER],
        responses={
            200: AntavoCouponListOutputSerializer,
            **_errors(
                {
                    400: "BadRequestException: a filter value Antavo does not have.",
                    404: "NotFoundException 160212: no customer has this Antavo id.",
                }
            ),
        },
        examples=[
            OpenApiExample(
                "A claimed coupon", value={"data": [examples.COUPON]}, response_only=True, status_codes=["200"]
            )
        ],
        tags=[TAG],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        serializer = AntavoCustomerCouponsInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        customer = customer_get_for_loyalty_by_external_id(source=customer_id_source(), external_id=customer_id)
        filters = serializer.validated_data
        vouchers = customer_vouchers_matching(
            customer=customer,
            code=filters.get("code"),
            name=filters.get("name"),
            statuses=STATUS_FILTERS[filters["status"]] if "status" in filters else None,
            kind=TYPE_FILTERS[filters["type"]] if "type" in filters else None,
            value=filters.get("value"),
        )
        return Response({"data": [antavo_coupon_body(voucher) for voucher in vouchers[:COUPONS_MAX]]})
