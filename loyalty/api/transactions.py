"""The customer's points ledger (scope loyalty:read):

GET  /api/v1/customers/{id}/transactions   ledger entries, newest first, filtered by kind and date, cursor-paged

Unknown and erased customers answer as the customer 360 view does (404, 410); a customer who never enrolled has an
empty ledger.
"""

from datetime import UTC, date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import input_parameter
from loyalty.api.common import LoyaltyReadApi, access_error_responses
from loyalty.api.event_serializers import ErrorOutputSerializer
from loyalty.api.filters import ApiIsoDateTimeField, PointsEntryFilterSet, filterset_validated
from loyalty.models import PointsEntry
from loyalty.selectors.accounts import ERASED_MESSAGE, customer_get_for_loyalty
from loyalty.selectors.ledger import points_entry_list

TAG = "Loyalty customers"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
INVALID_CURSOR = "Invalid cursor."


class PointsEntryCursorPagination(CursorPagination):
    """Newest first. A cursor marks a position in (created_at, id), so entries written while a client pages never
    shift the pages it has not read yet. Bad paging parameters are a 400 naming them, like a bad filter."""

    ordering = ("-created_at", "-id")
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = f"Entries per page, 1 to {MAX_PAGE_SIZE}; default {PAGE_SIZE}."
    max_page_size = MAX_PAGE_SIZE

    class PageSizeInputSerializer(serializers.Serializer):
        page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE)

    def get_page_size(self, request: Request) -> int:
        serializer = self.PageSizeInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["page_size"]

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        if cursor is None or cursor.position is None:
            return cursor
        # A cursor is only base64, so its position is whatever the client wrote: read it as the moment it must be.
        try:
            position = ApiIsoDateTimeField().clean(cursor.position)
        except DjangoValidationError:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        return cursor._replace(position=position.isoformat())


ENTRY_EXAMPLE = {
    "id": "5812",
    "kind": "earn",
    "bucket": "spendable",
    "points": 120,
    "transaction_id": "S1-0001",
    "source": "purchase",
    "note": "Checkout S1-0001",
    "expdate": "2027-11-22",
    "created_at": "2026-11-22T04:16:17.566230Z",
}


def _error(name: str, message: str, code: str, status: str, **extra: Any) -> OpenApiExample:
    return OpenApiExample(
        name, value={"message": message, "code": code, "extra": extra}, response_only=True, status_codes=[status]
    )


class CustomerTransactionListApi(LoyaltyReadApi, GenericAPIView):
    # What drf-spectacular's django-filter extension reads to document the filters (the model and the FilterSet);
    # get() validates the same FilterSet itself, before looking the customer up.
    queryset = PointsEntry.objects.none()
    filter_backends = (DjangoFilterBackend,)
    filterset_class = PointsEntryFilterSet
    pagination_class = PointsEntryCursorPagination

    @extend_schema_serializer(component_name="LedgerEntryOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        kind = serializers.ChoiceField(choices=PointsEntry.Kind.choices)
        bucket = serializers.ChoiceField(
            choices=PointsEntry.Bucket.choices, help_text="The balance the entry moves: spendable, pending, reserved."
        )
        points = serializers.IntegerField(help_text="Signed: added to (or taken from) the bucket.")
        transaction_id = serializers.SerializerMethodField(
            help_text="The purchase it belongs to, or the transaction points are reserved for; null otherwise."
        )
        # A field, not Field.source (mypy takes it for an override): DRF's metaclass moves it out of the class.
        source = serializers.CharField(help_text="purchase, event, admin or system.")  # type: ignore[assignment]
        note = serializers.CharField(help_text="The reason given with an adjustment, or what the system did.")
        expdate = serializers.SerializerMethodField(
            help_text="When the points of the lot it adds to, draws on or gives back to expire (UTC date); null: "
            "never, or not spendable points."
        )
        created_at = serializers.DateTimeField()

        def get_transaction_id(self, entry: PointsEntry) -> str | None:
            return entry.purchase.transaction_id if entry.purchase is not None else entry.reservation or None

        def get_expdate(self, entry: PointsEntry) -> date | None:
            lot = entry if entry.is_lot else entry.lot
            expires_at = lot.expires_at if lot is not None else None
            return expires_at.astimezone(UTC).date() if expires_at is not None else None

    @extend_schema(
        operation_id="loyalty_customer_transaction_list",
        summary="A customer's points ledger",
        description=(
            "Every entry of the customer's points ledger in the default program, newest first: earned points "
            "(pending during the return window, then confirmed), burned, reserved and released, expired, "
            "adjusted and refunded points. `points` is signed; balances are sums of entries per `bucket`. "
            "Filter by `kind` (one or several, comma-separated) and by `created_after` (inclusive) and "
            "`created_before` (exclusive), ISO 8601 moments. Pages follow `next` and `previous` (cursors); "
            f"`page_size` is 1 to {MAX_PAGE_SIZE}, default {PAGE_SIZE}. A customer who never enrolled has no "
            "entries."
        ),
        parameters=[
            input_parameter(
                PointsEntryCursorPagination.PageSizeInputSerializer,
                "page_size",
                description=PointsEntryCursorPagination.page_size_query_description,
            )
        ],
        responses={
            200: OutputSerializer(many=True),
            **access_error_responses(scope="loyalty:read"),
            400: OpenApiResponse(ErrorOutputSerializer, description="Bad query parameter; the message names it."),
            404: OpenApiResponse(ErrorOutputSerializer, description="No such customer."),
            410: OpenApiResponse(ErrorOutputSerializer, description=f'The customer was erased: "{ERASED_MESSAGE}".'),
        },
        examples=[
            OpenApiExample("An earn entry", value=ENTRY_EXAMPLE, response_only=True, status_codes=["200"]),
            _error(
                "Unknown kind",
                'kind: "gift" is not a valid choice.',
                "validation_error",
                "400",
                fields={"kind": ['"gift" is not a valid choice.']},
            ),
            _error("Unknown customer", "Customer not found.", "CUSTOMER_NOT_FOUND", "404", field="customer"),
            _error("Erased customer", ERASED_MESSAGE, "CUSTOMER_ERASED", "410"),
        ],
        tags=[TAG],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        filters = filterset_validated(self.filterset_class, request.query_params)
        customer = customer_get_for_loyalty(public_id=customer_id)
        entries = self.paginate_queryset(filters.filter_queryset(points_entry_list(customer=customer)))
        return self.get_paginated_response(self.OutputSerializer(entries, many=True).data)
