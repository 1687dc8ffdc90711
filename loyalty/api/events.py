"""The loyalty events API, modelled on Antavo's Events API (`POST /events`, `POST /events/bulk`).

POST /api/v1/events       one event `{"customer", "action", "data"}`; answers the customer summary, the ledger
                          entries that changed spendable points (`events`) and, for checkouts and refunds, the
                          purchase (`transaction`).
POST /api/v1/events/bulk  up to 500 events (an offline till's queue), each processed in order in its own
                          transaction; one result per event, a bad event fails alone.

Retries are safe. A checkout's `transaction_id` is its idempotency key: the same event again answers the first
response (kept in Purchase.first_response) and writes nothing; different content under the same id is 409
ERR_TX_ALREADY_EXISTS. Every other event honours an `Idempotency-Key` header (in bulk: the event's own
`idempotency_key`), see core/idempotency.py; checkouts ignore it. Replays carry `Idempotent-Replayed: true`.

These views parse, check that the API key may act for the store an event names, and render; what an event does,
in its transaction, is loyalty/services/events.py's.
"""

from dataclasses import replace
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.exception_handler import api_exception_handler
from core.api.schema import IDEMPOTENCY_KEY_SCHEMA
from core.exceptions import ApplicationError
from core.idempotency import HEADER, REPLAYED_HEADER, idempotency_key_clean, idempotent_call
from crm.models import ApiClient, Customer
from crm.permissions import api_client_of
from crm.selectors import api_client_store_check
from loyalty.api import event_serializers as schema
from loyalty.api.common import LoyaltyWriteApi
from loyalty.api.coupon_serializers import coupon_body
from loyalty.api.event_serializers import (
    DATA_SERIALIZERS,
    EventBulkInputSerializer,
    EventBulkOutputSerializer,
    EventInputSerializer,
    EventOutputSerializer,
    TransactionOutputSerializer,
    event_from_payload,
)
from loyalty.models import LoyaltyAccount, PointsEntry
from loyalty.services.events import (
    Event,
    EventOutcome,
    EventRefused,
    EventResult,
    event_bulk_process,
    event_process,
)
from loyalty.services.ledger import Balances
from loyalty.services.purchases import request_fingerprint

Body = dict[str, Any]


def customer_summary(customer: Customer, account: LoyaltyAccount | None, balances: Balances | None) -> Body:
    """The customer part of an event response (modelled on Antavo's Event_response)."""
    summary: Body = {
        "id": customer.public_id,
        "status": customer.status,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "language": customer.preferred_language,
        "state": account.state if account else LoyaltyAccount.State.GUEST,
    }
    if account is None or balances is None:
        return summary
    summary.update(
        {
            "account_number": account.account_number,
            "currency": account.program.currency,
            "tier": account.tier.code if account.tier else None,
            "spendable": balances.spendable,
            "pending": balances.pending,
            "reserved": balances.reserved,
            "spent": balances.spent,
            "expired": balances.expired,
            "score": balances.earned,
            "owed": balances.owed,
        }
    )
    return summary


def _event_entry(action: str, entry: PointsEntry) -> Body:
    expires_at = entry.expires_at if entry.is_lot else (entry.lot.expires_at if entry.lot else None)
    return {
        "id": str(entry.pk),
        "action": action,
        "kind": entry.kind,
        "points": entry.points,
        "expdate": expires_at.astimezone(UTC).date().isoformat() if expires_at else None,
    }


def event_body(result: EventResult) -> Body:
    """The Antavo-style Event_response: the customer summary, then the events; the purchase a checkout or refund
    is about; for coupon_redeem the coupon and what POST /api/v1/coupons/redeem answers besides it. The service
    calls it inside the event's transaction, as a checkout's first response is stored with the purchase."""
    body = customer_summary(result.customer, result.account, result.balances)
    body["events"] = [_event_entry(result.action, entry) for entry in result.entries]
    if result.purchase is not None:
        body["transaction"] = dict(TransactionOutputSerializer(result.purchase).data)
    voucher = result.voucher
    if voucher is not None:
        body["coupon"] = coupon_body(voucher)
        body["redemption"] = {
            "transaction_id": voucher.redeemed_transaction_id,
            "store_id": voucher.redeemed_store.code if voucher.redeemed_store is not None else None,
            "discount": f"{voucher.redemption_amount:.2f}",
        }
    return body


# The actions whose data names the store they record (their data serializers declare store_id).
STORE_RECORDING_ACTIONS = frozenset(
    action for action, data_serializer in DATA_SERIALIZERS.items() if "store_id" in data_serializer().fields
)


def _store_check(event: Event, client: ApiClient) -> None:
    """403 STORE_NOT_ALLOWED when the event names a store the key may not act for; 403 STORE_REQUIRED when a key
    restricted to some stores names none on an action that records one."""
    api_client_store_check(
        client=client,
        store_code=event.data.get("store_id"),
        field="data.store_id",
        store_required=event.action in STORE_RECORDING_ACTIONS,
    )


def _idempotency_key_of(request: Request) -> str:
    key = request.headers.get(HEADER)
    return "" if key is None else idempotency_key_clean(key)


def _replay_headers(replayed: bool) -> dict[str, str]:
    return {REPLAYED_HEADER: "true"} if replayed else {}


class EventCreateApi(LoyaltyWriteApi):
    InputSerializer = EventInputSerializer
    OutputSerializer = EventOutputSerializer

    @extend_schema(
        operation_id="event_create",
        summary="Submit a loyalty event",
        description=schema.EVENT_DESCRIPTION,
        request=schema.EVENT_REQUEST,
        responses=schema.event_responses(OutputSerializer),
        parameters=[
            OpenApiParameter(
                HEADER,
                IDEMPOTENCY_KEY_SCHEMA,
                OpenApiParameter.HEADER,
                description="Up to 255 characters, kept 24 hours. Ignored by checkout (its transaction_id is the key).",
            )
        ],
        examples=schema.EVENT_EXAMPLES,
        tags=["Loyalty events"],
    )
    def post(self, request: Request) -> Response:
        event = event_from_payload(request.data)
        key = _idempotency_key_of(request)
        client = api_client_of(request)
        _store_check(event, client)
        outcome = event_process(event=event, client=client, render=event_body, idempotency_key=key)
        return Response(outcome.body, headers=_replay_headers(outcome.replayed))


Refusal = ApplicationError | DjangoValidationError | exceptions.ValidationError


def _bulk_event(payload: Any, client: ApiClient) -> Event:
    """One event of a bulk, parsed and checked as POST /api/v1/events checks it, with its own idempotency key."""
    event = event_from_payload(payload, allow_idempotency_key=True)
    if event.idempotency_key:
        event = replace(event, idempotency_key=idempotency_key_clean(event.idempotency_key, field="idempotency_key"))
    _store_check(event, client)
    return event


def _bulk_result(index: int, outcome: EventOutcome | EventRefused | Refusal) -> Body:
    if not isinstance(outcome, EventOutcome):
        error = outcome.error if isinstance(outcome, EventRefused) else outcome
        rendered = api_exception_handler(error, {})
        return {"index": index, "status": rendered.status_code, "error": rendered.data}  # type: ignore[union-attr]
    result = {"index": index, "status": 200, "customer": outcome.body["id"], "events": outcome.body["events"]}
    if "transaction" in outcome.body:
        result["transaction"] = outcome.body["transaction"]
    if "coupon" in outcome.body:
        result["coupon"] = outcome.body["coupon"]
        # An Idempotency-Key replay of a redemption recorded before the block existed has none.
        if "redemption" in outcome.body:
            result["redemption"] = outcome.body["redemption"]
    result["replayed"] = outcome.replayed
    return result


def _bulk_body(payloads: list[Any], client: ApiClient) -> Body:
    """One result per event, in order: the events that parse go to the service together (it reads what their
    checkouts name at once), the others fail alone with the error POST /api/v1/events would answer."""
    parsed: list[Event | Refusal] = []
    for payload in payloads:
        try:
            parsed.append(_bulk_event(payload, client))
        except (ApplicationError, DjangoValidationError, exceptions.ValidationError) as error:
            parsed.append(error)
    events = [item for item in parsed if isinstance(item, Event)]
    outcomes = iter(event_bulk_process(events=events, client=client, render=event_body))
    results = [
        _bulk_result(index, next(outcomes) if isinstance(item, Event) else item) for index, item in enumerate(parsed)
    ]
    return {"results": results, "total": len(results), "errors": sum(1 for result in results if "error" in result)}


class EventBulkCreateApi(LoyaltyWriteApi):
    InputSerializer = EventBulkInputSerializer
    OutputSerializer = EventBulkOutputSerializer

    @extend_schema(
        operation_id="event_bulk_create",
        summary="Submit a batch of loyalty events (offline POS queue)",
        description=schema.BULK_DESCRIPTION,
        request=schema.BulkEventsSerializer,
        responses=schema.bulk_responses(OutputSerializer),
        parameters=[
            OpenApiParameter(
                HEADER,
                IDEMPOTENCY_KEY_SCHEMA,
                OpenApiParameter.HEADER,
                description="Makes the whole batch idempotent (24 hours).",
            )
        ],
        examples=schema.BULK_EXAMPLES,
        tags=["Loyalty events"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payloads = serializer.validated_data["events"]
        client = api_client_of(request)
        key = _idempotency_key_of(request)
        if not key:
            return Response(_bulk_body(payloads, client))
        # Each event commits on its own; the claim is committed before them and the body stored after them.
        result = idempotent_call(
            owner=f"api_client:{client.pk}",
            key=key,
            fingerprint=request_fingerprint({"endpoint": "events/bulk", "events": payloads}),
            work=lambda: (200, _bulk_body(payloads, client)),
            in_one_transaction=False,
        )
        return Response(result.body, status=result.status, headers=_replay_headers(result.replayed))
