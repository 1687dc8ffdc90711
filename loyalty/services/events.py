"""The events application service: what POST /api/v1/events and /api/v1/events/bulk do, modelled on Antavo's
Events API. One event (`customer`, `action`, `data`) runs in its own transaction: opt_in, opt_out, profile,
checkout, checkout_accept, checkout_reject, refund, partial_refund, point_add, point_sub, reserve_points,
release_points and coupon_redeem.

Retries are safe. A checkout's transaction id is its idempotency key: the same checkout again is answered with the
first response (Purchase.first_response, stored in the checkout's transaction) and writes nothing. Every other
event may carry an idempotency key (core/idempotency.py). Both store the response with the writes, so the caller
hands in `render`, which turns what an event did (EventResult) into the response body inside the transaction.

Lock order, the same for every event: the store (recorded on first sight), then the customer (profile merges),
then the loyalty account (every ledger write), then the purchase or coupon rows the services lock.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Max, prefetch_related_objects

from core.exceptions import ApplicationError
from core.idempotency import idempotent_call
from crm.error_codes import CrmErrorCode
from crm.lock_objects import customer_qs_select_for_update
from crm.models import ApiClient, ConsentChange, Customer, Store
from crm.selectors import customer_get_by_external_id
from crm.services.context import ChangeContext
from crm.services.customers import customer_update
from crm.services.external_ids import external_id_link
from crm.services.stores import change_context_at_store, store_get_or_create
from loyalty.lock_objects import account_qs_select_for_update
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase, Voucher
from loyalty.rules.earning import PurchaseLine
from loyalty.selectors.accounts import (
    customer_get_for_loyalty,
    customer_get_for_loyalty_by_external_id,
    loyalty_account_get,
    loyalty_account_get_or_none,
    program_get_default,
)
from loyalty.selectors.events import (
    RecordedCheckout,
    checkouts_recorded_get,
    points_entries_spendable_changes,
    purchase_get_for_account,
)
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.customers import customer_sign_up
from loyalty.services.ledger import Balances, EntrySource, account_balances, account_lock
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
    purchase_refund,
    purchase_reject,
    request_fingerprint,
)
from loyalty.services.tiers import program_tiers_keep

Body = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """A validated event. `payload` is the event as sent (without its idempotency key): what fingerprints cover.
    A store named in `data["store_id"]` is one the caller may act for (crm.selectors.api_client_store_check).

    `customer_source` says whose id `customer` is: "" our public id; otherwise the source of a crm.ExternalCustomerId
    (a vendor dialect whose tills supply their own ids, such as "antavo"). With a source, an opt_in naming an id no
    customer has signs a new customer up and links the id to it, in the event's transaction."""

    action: str
    customer: str | None
    data: dict[str, Any]
    payload: dict[str, Any]
    idempotency_key: str = ""
    customer_source: str = ""


@dataclass(frozen=True)
class EventResult:
    """What an event did, read in its transaction: the customer, their account in the default program (None:
    never enrolled) as it is now and its balances, the ledger entries that changed spendable points (with their
    lots), and the purchase or the redeemed voucher the event was about."""

    action: str
    customer: Customer
    account: LoyaltyAccount | None
    balances: Balances | None
    entries: list[PointsEntry]
    purchase: Purchase | None = None
    voucher: Voucher | None = None


EventRenderer = Callable[[EventResult], Body]


@dataclass(frozen=True)
class EventOutcome:
    body: Body
    replayed: bool = False


@dataclass(frozen=True)
class EventRefused:
    """An event of a bulk that was refused; nothing it would have written was."""

    error: ApplicationError | DjangoValidationError


def _customer_of(event: Event) -> Customer:
    if event.customer_source:
        return customer_get_for_loyalty_by_external_id(source=event.customer_source, external_id=event.customer or "")
    return customer_get_for_loyalty(public_id=event.customer or "")


def _customer_linked_or_none(event: Event) -> Customer | None:
    """The customer an opt_in names by an external id, or None when no customer has that id yet."""
    return customer_get_by_external_id(source=event.customer_source, external_id=event.customer or "")


def _context(client: ApiClient) -> ChangeContext:
    return ChangeContext(channel=ConsentChange.Channel.API, api_client=client)


def _ledger_position(account: LoyaltyAccount) -> tuple[LoyaltyAccount, int]:
    """Lock the account and note its last ledger entry. Every ledger write holds this lock, so the account's
    entries after that one, read later in the same transaction, are exactly the ones this event wrote."""
    locked = account_lock(account)
    last = PointsEntry.objects.filter(account=locked).aggregate(last=Max("id"))["last"]
    return locked, last or 0


def _entries_since(account: LoyaltyAccount, position: int) -> list[PointsEntry]:
    return points_entries_spendable_changes(entries=PointsEntry.objects.filter(account=account, id__gt=position))


def _result(
    customer: Customer,
    account: LoyaltyAccount | None,
    action: str,
    entries: list[PointsEntry],
    purchase: Purchase | None = None,
    *,
    account_is_current: bool = False,
    voucher: Voucher | None = None,
) -> EventResult:
    """The account is read again (the action may have changed its state or tier) unless the caller holds the
    instance the service updated."""
    if account is not None and not account_is_current:
        account = LoyaltyAccount.objects.select_related("program", "tier").get(pk=account.pk)
    balances = account_balances(account) if account is not None else None
    # Entries a service handed over may name their lot by id only (points given back to it): one query for them.
    prefetch_related_objects(
        [entry for entry in entries if entry.lot_id and not PointsEntry.lot.is_cached(entry)], "lot"
    )
    return EventResult(
        action=action,
        customer=customer,
        account=account,
        balances=balances,
        entries=entries,
        purchase=purchase,
        voucher=voucher,
    )


# One function per action but checkout. Each runs inside the event's transaction.


def _opt_in(event: Event, client: ApiClient) -> EventResult:
    fields = dict(event.data)
    context = change_context_at_store(context=_context(client), store_code=fields.pop("store_id", None))
    known = None
    if event.customer is not None and event.customer_source:
        known = _customer_linked_or_none(event)
    if event.customer is None or (event.customer_source and known is None):
        customer = customer_sign_up(fields=fields, context=context, consents={"loyalty_sign_up": True})
        if event.customer is not None:
            # A concurrent opt_in of the same new id makes this EXTERNAL_ID_CONFLICT (409): this one writes nothing.
            external_id_link(customer=customer, source=event.customer_source, external_id=event.customer)
        return _result(customer, loyalty_account_get(customer=customer), event.action, [])
    customer = known or _customer_of(event)
    if fields:
        customer = customer_qs_select_for_update().get(pk=customer.pk)
    account = loyalty_account_opt_in(customer=customer, fields=fields, context=context)
    return _result(customer, account, event.action, [])


def _opt_out(event: Event, client: ApiClient) -> EventResult:
    customer = _customer_of(event)
    account = loyalty_account_opt_out(account=loyalty_account_get(customer=customer), context=_context(client))
    return _result(customer, account, event.action, [])


def _profile(event: Event, client: ApiClient) -> EventResult:
    customer = customer_qs_select_for_update().get(pk=_customer_of(event).pk)
    customer_update(customer=customer, fields=event.data, context=_context(client))
    return _result(customer, loyalty_account_get_or_none(customer=customer), event.action, [])


def _purchase_event(apply: Callable[[Purchase, Event], Purchase]) -> Callable[[Event, ApiClient], EventResult]:
    def handle(event: Event, client: ApiClient) -> EventResult:
        customer = _customer_of(event)
        account = loyalty_account_get(customer=customer)
        purchase = purchase_get_for_account(account=account, transaction_id=event.data["transaction_id"])
        account, position = _ledger_position(account)
        purchase = apply(purchase, event)
        return _result(customer, account, event.action, _entries_since(account, position), purchase)

    return handle


def _points_event(
    apply: Callable[[LoyaltyAccount, Event, EntrySource], Any], *, needs_enrolment: bool = True
) -> Callable[[Event, ApiClient], EventResult]:
    def handle(event: Event, client: ApiClient) -> EventResult:
        customer = _customer_of(event)
        account, position = _ledger_position(loyalty_account_get(customer=customer))
        if needs_enrolment:
            loyalty_account_ensure_enrolled(account)
        apply(account, event, EntrySource(source="event", note=event.data.get("reason", "")))
        return _result(customer, account, event.action, _entries_since(account, position))

    return handle


def _coupon_redeem(event: Event, client: ApiClient) -> EventResult:
    """Redeem a coupon (Antavo reports redemptions with this event) at the store `store_id`: the service of
    POST /api/v1/coupons/redeem, idempotent on transaction_id. No points move, so there are no entries."""
    data = event.data
    customer = _customer_of(event)
    voucher = voucher_redeem(
        code=data["code"],
        transaction_id=data["transaction_id"],
        customer=customer,
        channel=data["channel"],
        lines=data["lines"],
        store_code=data.get("store_id"),
    )
    account = loyalty_account_get_or_none(customer=customer)
    return _result(customer, account, event.action, [], account_is_current=True, voucher=voucher)


HANDLERS: dict[str, Callable[[Event, ApiClient], EventResult]] = {
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


@transaction.atomic
def _event_run(event: Event, client: ApiClient, render: EventRenderer) -> Body:
    return render(HANDLERS[event.action](event, client))


# Checkouts: replays answered from what was read before anything is locked.


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
    return CheckoutsKnown(looked_up={transaction_id}, recorded=checkouts_recorded_get(transaction_ids={transaction_id}))


def _checkouts_known(events: Sequence[Event]) -> CheckoutsKnown:
    """A bulk's: the default program and the purchases its checkouts name, in two queries (none without one)."""
    transaction_ids = {event.data["transaction_id"] for event in events if event.action == "checkout"}
    if not transaction_ids:
        return CheckoutsKnown(looked_up=set(), recorded={})
    program = program_get_default()
    recorded = checkouts_recorded_get(transaction_ids=transaction_ids, program=program)
    return CheckoutsKnown(looked_up=transaction_ids, recorded=recorded, program=program)


def _stored_checkout_response(recorded: RecordedCheckout | None, fingerprint: str) -> Body | None:
    """The first response of this very checkout when its transaction id was recorded with the same content, unless
    its customer has been erased since (then the normal path answers 410). Different content falls through to
    purchase_checkout, which refuses it."""
    if recorded is None or not recorded.first_response or recorded.customer_erased:
        return None
    return recorded.first_response if recorded.fingerprint == fingerprint else None


def _account_locked_for_checkout(event: Event, program: Program | None) -> LoyaltyAccount:
    """The customer's account in `program` (None: the default program) locked as account_lock locks it, read with
    its customer, program and tier in one query instead of the three of finding the customer, the account and
    locking it. Without such an account, those say why: 404, 410 (erased), 503 (no default program) or 409."""
    accounts = account_qs_select_for_update().select_for_update(of=("self",)).select_related("customer", "tier")
    if program is None:
        accounts = accounts.select_related("program").filter(program__is_default=True, program__is_active=True)
    else:
        accounts = accounts.filter(program=program)
    customer_id = (event.customer or "").strip()
    if event.customer_source:
        accounts = accounts.filter(
            customer__external_ids__source=event.customer_source, customer__external_ids__external_id=customer_id
        )
    else:
        accounts = accounts.filter(customer__public_id=customer_id)
    account = accounts.first()
    if account is None or account.customer.status == Customer.Status.ERASED:
        return account_lock(loyalty_account_get(customer=_customer_of(event)))
    if program is not None:
        account.program = program
    return account


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Decimal) else value for name, value in item.items()}


@transaction.atomic
def _checkout_record(
    event: Event, known: CheckoutsKnown, fingerprint: str, render: EventRenderer
) -> tuple[EventOutcome, Store | None]:
    """Record the checkout and store its first response, in one transaction. The store is resolved before the
    account is locked, the order every event keeps."""
    data = event.data
    transaction_id = data["transaction_id"]
    store_code = data.get("store_id")
    store = None
    if store_code:
        store = known.stores.get(store_code.strip()) or store_get_or_create(code=store_code)
    account = _account_locked_for_checkout(event, known.program)
    is_new = transaction_id in known.looked_up and transaction_id not in known.recorded
    if is_new and known.program is not None:
        program_tiers_keep(known.program)  # once per bulk, for every new checkout's tier recalculation
    items = data.get("items", [])
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
        return EventOutcome(body=purchase.first_response, replayed=True), store
    if result.created:
        # The account purchase_checkout locked and updated (tier included), and the entries it wrote.
        changes = result.spendable_changes
        body = render(_result(account.customer, account, event.action, changes, purchase, account_is_current=True))
        purchase_first_response_store(purchase=purchase, response=body)
    else:
        entries = points_entries_spendable_changes(entries=PointsEntry.objects.filter(purchase=purchase))
        body = render(_result(account.customer, account, event.action, entries, purchase))
    return EventOutcome(body=body, replayed=not result.created), store


def _checkout(event: Event, known: CheckoutsKnown, render: EventRenderer) -> EventOutcome:
    """Idempotent by transaction id: a replay is answered from the purchase looked up before anything is locked."""
    transaction_id = event.data["transaction_id"]
    fingerprint = request_fingerprint(event.payload)
    stored = _stored_checkout_response(known.recorded.get(transaction_id), fingerprint)
    if stored is not None:
        return EventOutcome(body=stored, replayed=True)
    outcome, store = _checkout_record(event, known, fingerprint, render)
    if not outcome.replayed:
        known.recorded[transaction_id] = RecordedCheckout(outcome.body, fingerprint, customer_erased=False)
    if store is not None:
        known.stores[store.code] = store
    return outcome


# What an opt_in creating a customer meets when another opt_in of the same new external id commits first: the
# customer's email, or the id's link, is taken.
_OPT_IN_RACE_CODES = frozenset({CrmErrorCode.EMAIL_ALREADY_IN_USE, CrmErrorCode.EXTERNAL_ID_CONFLICT})


def _opt_in_lost_to_the_same_id(event: Event, error: ApplicationError) -> bool:
    """An opt_in naming a new external id that lost the race to create its customer to another opt_in of the same
    id (a till's retry while the first request still runs): the id is linked now."""
    return (
        event.action == "opt_in"
        and bool(event.customer_source)
        and error.code in _OPT_IN_RACE_CODES
        and _customer_linked_or_none(event) is not None
    )


def event_process(
    *,
    event: Event,
    client: ApiClient,
    render: EventRenderer,
    idempotency_key: str = "",
    checkouts: CheckoutsKnown | None = None,
) -> EventOutcome:
    """Run one validated event in its own transaction, and answer `render` of what it did (rendered inside that
    transaction) or, for a replay, the response stored the first time.

    A checkout looks its transaction id up before the transaction (`checkouts`: what a bulk read at once for all
    its checkouts, so that replaying an offline queue costs no query per checkout); a replay writes nothing. Any
    other event with an `idempotency_key` claims the key for `client` first (core/idempotency.py), and its
    response is stored with its writes. Inside the transaction the event records the store it names, locks the
    customer (opt_in with profile fields, profile), then the account (every event that moves points or changes
    a purchase), then what the services it calls lock.

    An opt_in creating the customer of a new external id, beaten to it by another opt_in of the same id (its email
    or the id taken, the id linked by then), runs once more, as an opt_in of that customer.

    Raises ApplicationError (and Django's ValidationError) for what the services refuse, the idempotency key's
    409s included; nothing is written then.
    """
    if event.action == "checkout":
        return _checkout(event, checkouts or _checkout_known(event.data["transaction_id"]), render)
    if not idempotency_key:
        try:
            return EventOutcome(body=_event_run(event, client, render))
        except ApplicationError as error:
            if not _opt_in_lost_to_the_same_id(event, error):
                raise
            # Its transaction rolled back: run it again, as an opt_in of the customer the other one created.
            return EventOutcome(body=_event_run(event, client, render))
    result = idempotent_call(
        owner=f"api_client:{client.pk}",
        key=idempotency_key,
        fingerprint=request_fingerprint({"endpoint": "events", "event": event.payload}),
        work=lambda: (200, render(HANDLERS[event.action](event, client))),
    )
    return EventOutcome(body=result.body, replayed=result.replayed)


def event_bulk_process(
    *, events: Sequence[Event], client: ApiClient, render: EventRenderer
) -> list[EventOutcome | EventRefused]:
    """Each event in order through event_process, each in its own transaction and with its own idempotency key;
    the default program and the purchases the checkouts name are read once for all (two queries). A refused event
    fails alone (EventRefused). An unexpected error (a database outage) propagates, leaving the events before it
    committed: a retry of the batch replays them."""
    checkouts = _checkouts_known(events)
    outcomes: list[EventOutcome | EventRefused] = []
    for event in events:
        try:
            outcome = event_process(
                event=event,
                client=client,
                render=render,
                idempotency_key=event.idempotency_key,
                checkouts=checkouts,
            )
        except (ApplicationError, DjangoValidationError) as error:
            outcomes.append(EventRefused(error))
        else:
            outcomes.append(outcome)
    return outcomes
