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
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Max, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.exception_handler import api_exception_handler
from core.exceptions import ApplicationError
from core.idempotency import HEADER, REPLAYED_HEADER, idempotency_key_clean, idempotent_call
from crm.models import ApiClient, ConsentChange, Customer, Store
from crm.permissions import api_client_of
from crm.services.context import ChangeContext
from crm.services.customers import customer_update
from loyalty.api import event_serializers as schema
from loyalty.api.common import (
    LoyaltyWriteApi,
    account_for_api,
    customer_for_api,
    customer_summary,
    store_for_api,
)
from loyalty.api.coupon_serializers import cart_lines, coupon_body
from loyalty.api.event_serializers import (
    Event,
    EventBulkInputSerializer,
    EventBulkOutputSerializer,
    EventInputSerializer,
    EventOutputSerializer,
    TransactionOutputSerializer,
    event_from_payload,
)
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.lock_objects import account_qs_select_for_update
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase
from loyalty.rules.earning import PurchaseLine
from loyalty.selectors.accounts import program_get_default
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.customers import customer_sign_up
from loyalty.services.ledger import EntrySource, account_lock
from loyalty.services.membership import (
    loyalty_account_ensure_enrolled,
    loyalty_account_opt_in,
    loyalty_account_opt_out,
)
from loyalty.services.points import (
    points_add,
    points_release_for_transaction,
    points_reserve_for_transaction,
    points_subtract,
)
from loyalty.services.purchases import (
    purchase_accept,
    purchase_checkout,
    purchase_checkout_new,
    purchase_first_response_store,
    purchase_get,
    purchase_refund,
    purchase_reject,
    request_fingerprint,
)
from loyalty.services.tiers import program_tiers_keep

Body = dict[str, Any]


@dataclass(frozen=True)
class EventOutcome:
    body: Body
    replayed: bool = False


# Reads the events API needs. (They belong in loyalty/selectors/accounts.py, which has another owner.)


def _account_or_none(customer: Customer) -> LoyaltyAccount | None:
    return (
        LoyaltyAccount.objects.select_related("program", "tier")
        .filter(customer=customer, program=program_get_default())
        .first()
    )


def _customer_locked(customer: Customer) -> Customer:
    """The customer row locked for the rest of the transaction: a profile merge saves the whole row, and two
    concurrent merges must not undo each other's fields."""
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _ledger_position(account: LoyaltyAccount) -> tuple[LoyaltyAccount, int]:
    """Lock the account and note its last ledger entry. Every ledger write holds this lock, so the account's
    entries after that one, read later in the same transaction, are exactly the ones this request wrote."""
    locked = account_lock(account)
    last = PointsEntry.objects.filter(account=locked).aggregate(last=Max("id"))["last"]
    return locked, last or 0


def _spendable_changes(entries: QuerySet[PointsEntry]) -> list[PointsEntry]:
    """Entries that changed spendable points. Settlements of owed points are left out: they move points from a
    lot to the debt and leave the balance as it was."""
    return list(
        entries.filter(bucket=PointsEntry.Bucket.SPENDABLE)
        .exclude(kind=PointsEntry.Kind.SETTLE)
        .select_related("lot")
        .order_by("id")
    )


def _account_locked_for_checkout(public_id: str, program: Program | None) -> LoyaltyAccount:
    """The customer's account in `program` (None: the default program) locked as account_lock locks it, read with
    its customer, program and tier in one query instead of the three of customer_for_api, account_for_api and
    account_lock. Without such an account, those say why: 404, 410 (erased), 503 (no default program) or 409."""
    accounts = account_qs_select_for_update().select_for_update(of=("self",)).select_related("customer", "tier")
    if program is None:
        accounts = accounts.select_related("program").filter(program__is_default=True, program__is_active=True)
    else:
        accounts = accounts.filter(program=program)
    account = accounts.filter(customer__public_id=public_id.strip()).first()
    if account is None or account.customer.status == Customer.Status.ERASED:
        return account_lock(account_for_api(customer_for_api(public_id)))
    if program is not None:
        account.program = program
    return account


def _purchase_of(account: LoyaltyAccount, transaction_id: str) -> Purchase:
    purchase = purchase_get(program=account.program, transaction_id=transaction_id)
    if purchase.account_id != account.pk:
        # Another customer's transaction: answered as unknown, so that ids of others cannot be probed.
        raise ApplicationError(
            _("Transaction %(transaction_id)s not found.") % {"transaction_id": transaction_id},
            code=LoyaltyErrorCode.TRANSACTION_NOT_FOUND,
            status=404,
            extra={"field": "transaction_id"},
        )
    return purchase


# Translation between the wire format and the services.


def _context(client: ApiClient, store: Store | None = None) -> ChangeContext:
    return ChangeContext(channel=ConsentChange.Channel.API, store=store, api_client=client)


def _lot_loaded(entry: PointsEntry) -> bool:
    return PointsEntry.lot.is_cached(entry)


def _event_entry(action: str, entry: PointsEntry) -> Body:
    expires_at = entry.expires_at if entry.is_lot else (entry.lot.expires_at if entry.lot else None)
    return {
        "id": str(entry.pk),
        "action": action,
        "kind": entry.kind,
        "points": entry.points,
        "expdate": expires_at.astimezone(UTC).date().isoformat() if expires_at else None,
    }


def _body(
    customer: Customer,
    account: LoyaltyAccount | None,
    action: str,
    entries: list[PointsEntry],
    purchase: Purchase | None = None,
    *,
    account_is_current: bool = False,
) -> Body:
    """The Antavo-style Event_response: the customer summary, then the events. The account is read again (the
    action may have changed its state or tier) unless the caller holds the instance the service updated."""
    if account is not None and not account_is_current:
        account = LoyaltyAccount.objects.select_related("program", "tier").get(pk=account.pk)
    body = customer_summary(customer, account)
    # Entries a service handed over may name their lot by id only (points given back to it): one query for them.
    prefetch_related_objects([entry for entry in entries if entry.lot_id and not _lot_loaded(entry)], "lot")
    body["events"] = [_event_entry(action, entry) for entry in entries]
    if purchase is not None:
        body["transaction"] = dict(TransactionOutputSerializer(purchase).data)
    return body


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Decimal) else value for name, value in item.items()}


# One function per action. Each runs inside the event's transaction.


def _opt_in(event: Event, client: ApiClient) -> Body:
    fields = dict(event.data)
    context = _context(
        client, store_for_api(client=client, store_code=fields.pop("store_id", None), field="data.store_id")
    )
    if event.customer is None:
        customer = customer_sign_up(fields=fields, context=context, consents={"loyalty_sign_up": True})
        return _body(customer, account_for_api(customer), event.action, [])
    customer = customer_for_api(event.customer)
    if fields:
        customer = _customer_locked(customer)
    account = loyalty_account_opt_in(customer=customer, fields=fields, context=context)
    return _body(customer, account, event.action, [])


def _opt_out(event: Event, client: ApiClient) -> Body:
    customer = customer_for_api(event.customer)  # type: ignore[arg-type]
    account = loyalty_account_opt_out(account=account_for_api(customer), context=_context(client))
    return _body(customer, account, event.action, [])


def _profile(event: Event, client: ApiClient) -> Body:
    customer = _customer_locked(customer_for_api(event.customer))  # type: ignore[arg-type]
    customer_update(customer=customer, fields=event.data, context=_context(client))
    return _body(customer, _account_or_none(customer), event.action, [])


def _purchase_event(apply: Callable[[Purchase, Event], Purchase]) -> Callable[[Event, ApiClient], Body]:
    def handle(event: Event, client: ApiClient) -> Body:
        customer = customer_for_api(event.customer)  # type: ignore[arg-type]
        account = account_for_api(customer)
        purchase = _purchase_of(account, event.data["transaction_id"])
        account, position = _ledger_position(account)
        purchase = apply(purchase, event)
        entries = _spendable_changes(PointsEntry.objects.filter(account=account, id__gt=position))
        return _body(customer, account, event.action, entries, purchase)

    return handle


def _points_event(
    apply: Callable[[LoyaltyAccount, Event, EntrySource], Any], *, needs_enrolment: bool = True
) -> Callable[[Event, ApiClient], Body]:
    def handle(event: Event, client: ApiClient) -> Body:
        customer = customer_for_api(event.customer)  # type: ignore[arg-type]
        account, position = _ledger_position(account_for_api(customer))
        if needs_enrolment:
            loyalty_account_ensure_enrolled(account)
        apply(account, event, EntrySource(source="event", note=event.data.get("reason", "")))
        entries = _spendable_changes(PointsEntry.objects.filter(account=account, id__gt=position))
        return _body(customer, account, event.action, entries)

    return handle


def _coupon_redeem(event: Event, client: ApiClient) -> Body:
    """Redeem a coupon (Antavo reports redemptions with this event) at the store `store_id`: the same service as
    POST /api/v1/coupons/redeem, idempotent on transaction_id. No points move, so `events` is []; `coupon` is the
    voucher and `redemption` what POST /api/v1/coupons/redeem answers besides it."""
    data = event.data
    store_for_api(client=client, store_code=data.get("store_id"), field="data.store_id")
    customer = customer_for_api(event.customer)  # type: ignore[arg-type]
    cart = data["cart"] if "cart" in data else {"total": data["amount"]}
    voucher = voucher_redeem(
        code=data["code"],
        transaction_id=data["transaction_id"],
        customer=customer,
        channel=data["channel"],
        lines=cart_lines(cart),
        store_code=data.get("store_id"),
    )
    body = _body(customer, _account_or_none(customer), event.action, [], account_is_current=True)
    body["coupon"] = coupon_body(voucher)
    body["redemption"] = {
        "transaction_id": voucher.redeemed_transaction_id,
        "store_id": voucher.redeemed_store.code if voucher.redeemed_store is not None else None,
        "discount": f"{voucher.redemption_amount:.2f}",
    }
    return body


HANDLERS: dict[str, Callable[[Event, ApiClient], Body]] = {
    "opt_in": _opt_in,
    "opt_out": _opt_out,
    "profile": _profile,
    "checkout_accept": _purchase_event(lambda purchase, event: purchase_accept(purchase=purchase)),
    "checkout_reject": _purchase_event(lambda purchase, event: purchase_reject(purchase=purchase)),
    "refund": _purchase_event(lambda purchase, event: purchase_refund(purchase=purchase)),
    "partial_refund": _purchase_event(
        lambda purchase, event: purchase_refund(purchase=purchase, amount=event.data["amount"])
    ),
    "point_add": _points_event(
        lambda account, event, origin: points_add(account=account, points=event.data["points"], origin=origin)
    ),
    "point_sub": _points_event(
        lambda account, event, origin: points_subtract(account=account, points=event.data["points"], origin=origin)
    ),
    "reserve_points": _points_event(
        lambda account, event, origin: points_reserve_for_transaction(
            account=account, transaction_id=event.data["transaction_id"], points=event.data["points"], origin=origin
        )
    ),
    # Releasing a hold must work whatever the account's state, or the held points would be stuck.
    "release_points": _points_event(
        lambda account, event, origin: points_release_for_transaction(
            account=account, transaction_id=event.data["transaction_id"], origin=origin
        ),
        needs_enrolment=False,
    ),
    "coupon_redeem": _coupon_redeem,
}


@dataclass(frozen=True)
class RecordedCheckout:
    """What answering a replay needs of a recorded purchase."""

    first_response: Body | None
    fingerprint: str
    customer_erased: bool


RECORDED_FIELDS = ("transaction_id", "first_response", "request_fingerprint", "account__customer__status")


def _recorded(row: tuple[str, Body | None, str, str]) -> tuple[str, RecordedCheckout]:
    transaction_id, first_response, fingerprint, status = row
    return transaction_id, RecordedCheckout(first_response, fingerprint, status == Customer.Status.ERASED)


@dataclass
class CheckoutsKnown:
    """What a request reads once for all its checkouts: the transaction ids it looked up, the purchases of the
    default program they name, and (a bulk) the default program, whose tiers its first new checkout reads for all
    (None: each account read joins it). An id looked up and not recorded is new, bar a till racing this one, which
    the unique constraint catches. The request adds the checkouts it records, so that an id repeated in a bulk is
    a replay, and the stores they named."""

    looked_up: set[str]
    recorded: dict[str, RecordedCheckout]
    program: Program | None = None
    stores: dict[str, Store] = field(default_factory=dict)


def _checkout_known(transaction_id: str) -> CheckoutsKnown:
    """A single checkout's: its own transaction id, with the default program joined in (one query)."""
    rows = Purchase.objects.filter(
        program__is_default=True, program__is_active=True, transaction_id=transaction_id
    ).values_list(*RECORDED_FIELDS)
    return CheckoutsKnown(looked_up={transaction_id}, recorded=dict(map(_recorded, rows)))


def _checkouts_known(payloads: list[Any]) -> CheckoutsKnown:
    """A bulk's: the default program and the purchases its checkouts name, in two queries."""
    transaction_ids = {
        payload["data"]["transaction_id"]
        for payload in payloads
        if isinstance(payload, dict)
        and payload.get("action") == "checkout"
        and isinstance(payload.get("data"), dict)
        and isinstance(payload["data"].get("transaction_id"), str)
    }
    if not transaction_ids:
        return CheckoutsKnown(looked_up=set(), recorded={})
    program = program_get_default()
    rows = Purchase.objects.filter(program=program, transaction_id__in=transaction_ids).values_list(*RECORDED_FIELDS)
    return CheckoutsKnown(looked_up=transaction_ids, recorded=dict(map(_recorded, rows)), program=program)


def _stored_checkout_response(recorded: RecordedCheckout | None, fingerprint: str) -> Body | None:
    """The first response of this very checkout when its transaction id was recorded with the same content, unless
    its customer has been erased since (then the normal path answers 410). Different content falls through to
    purchase_checkout, which refuses it."""
    if recorded is None or not recorded.first_response or recorded.customer_erased:
        return None
    return recorded.first_response if recorded.fingerprint == fingerprint else None


def _checkout_store(client: ApiClient, store_code: str | None, known: CheckoutsKnown) -> Store | None:
    if store_code and store_code.strip() in known.stores:
        return known.stores[store_code.strip()]
    return store_for_api(client=client, store_code=store_code, field="data.store_id")


def _checkout(event: Event, client: ApiClient, known: CheckoutsKnown) -> EventOutcome:
    """Idempotent by transaction id: a replay is answered from the purchase looked up before anything is locked,
    and the first response is stored with the purchase, in its transaction. The store is resolved before the
    account is locked, the order every event keeps."""
    data = event.data
    transaction_id = data["transaction_id"]
    fingerprint = request_fingerprint(event.payload)
    recorded = known.recorded.get(transaction_id)
    stored = _stored_checkout_response(recorded, fingerprint)
    if stored is not None:
        return EventOutcome(body=stored, replayed=True)
    items = data.get("items", [])
    with transaction.atomic():
        store = _checkout_store(client, data.get("store_id"), known)
        account = _account_locked_for_checkout(event.customer, known.program)  # type: ignore[arg-type]
        is_new = transaction_id in known.looked_up and recorded is None
        if is_new and known.program is not None:
            program_tiers_keep(known.program)  # once per bulk, for every new checkout's tier recalculation
        result = (purchase_checkout_new if is_new else purchase_checkout)(
            account=account,
            transaction_id=transaction_id,
            total=data["total"],
            lines=[
                PurchaseLine(
                    product_id=item["product_id"],
                    subtotal=item["subtotal"],
                    category=item.get("category", ""),
                    quantity=item["quantity"],
                )
                for item in items
            ],
            items=[_json_item(item) for item in items],
            points_burned=data["points_burned"],
            fingerprint=fingerprint,
            purchased_at=data.get("purchased_at"),
            store=store,
            channel=data.get("channel", ""),
            currency=data.get("currency", ""),
        )
        purchase = result.purchase
        if not result.created and purchase.first_response:
            return EventOutcome(body=purchase.first_response, replayed=True)
        if result.created:
            # The account purchase_checkout locked and updated (tier included), and the entries it wrote.
            body = _body(
                account.customer, account, event.action, result.spendable_changes, purchase, account_is_current=True
            )
            purchase_first_response_store(purchase=purchase, response=body)
        else:
            entries = _spendable_changes(PointsEntry.objects.filter(purchase=purchase))
            body = _body(account.customer, account, event.action, entries, purchase)
    if result.created:
        known.recorded[transaction_id] = RecordedCheckout(body, fingerprint, customer_erased=False)
    if store is not None:
        known.stores[store.code] = store
    return EventOutcome(body=body, replayed=not result.created)


def event_process(
    *, event: Event, client: ApiClient, idempotency_key: str = "", checkouts: CheckoutsKnown | None = None
) -> EventOutcome:
    """Run one validated event in its own transaction. Raises ApplicationError (and Django's ValidationError)
    for what the services refuse; nothing is written then. `checkouts`: what a bulk request read at once for all
    its checkouts (so that replaying an offline queue costs no query per checkout, and a new one only its own)."""
    if event.action == "checkout":
        return _checkout(event, client, checkouts or _checkout_known(event.data["transaction_id"]))
    handler = HANDLERS[event.action]
    if not idempotency_key:
        with transaction.atomic():
            return EventOutcome(body=handler(event, client))
    result = idempotent_call(
        owner=f"api_client:{client.pk}",
        key=idempotency_key,
        fingerprint=request_fingerprint({"endpoint": "events", "event": event.payload}),
        work=lambda: (200, handler(event, client)),
    )
    return EventOutcome(body=result.body, replayed=result.replayed)


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
                str,
                OpenApiParameter.HEADER,
                description="Up to 255 characters, kept 24 hours. Ignored by checkout (its transaction_id is the key).",
            )
        ],
        examples=schema.EVENT_EXAMPLES,
        tags=["Loyalty events"],
    )
    def post(self, request: Request) -> Response:
        event = event_from_payload(request.data)
        outcome = event_process(
            event=event, client=api_client_of(request), idempotency_key=_idempotency_key_of(request)
        )
        return Response(outcome.body, headers=_replay_headers(outcome.replayed))


def _bulk_result(index: int, payload: Any, client: ApiClient, checkouts: CheckoutsKnown) -> Body:
    try:
        event = event_from_payload(payload, allow_idempotency_key=True)
        key = idempotency_key_clean(event.idempotency_key, field="idempotency_key") if event.idempotency_key else ""
        outcome = event_process(event=event, client=client, idempotency_key=key, checkouts=checkouts)
    except (ApplicationError, DjangoValidationError, exceptions.ValidationError) as error:
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


def events_bulk_process(*, payloads: list[Any], client: ApiClient) -> Body:
    """Each event in order, each in its own transaction. Refusals become error results; an unexpected error
    (a database outage) fails the request, leaving the events before it committed: a retry of the batch
    replays them."""
    checkouts = _checkouts_known(payloads)
    results = [_bulk_result(index, payload, client, checkouts) for index, payload in enumerate(payloads)]
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
                HEADER, str, OpenApiParameter.HEADER, description="Makes the whole batch idempotent (24 hours)."
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
            return Response(events_bulk_process(payloads=payloads, client=client))
        result = idempotent_call(
            owner=f"api_client:{client.pk}",
            key=key,
            fingerprint=request_fingerprint({"endpoint": "events/bulk", "events": payloads}),
            work=lambda: (200, events_bulk_process(payloads=payloads, client=client)),
            atomic=False,
        )
        return Response(result.body, status=result.status, headers=_replay_headers(result.replayed))
