"""The ledger invariant, property-based: any sequence of earn, burn, refund, expire, reserve, release, accept and
reject keeps the cached balance equal to the ledger and to the lots, agrees with a simple model of the rules, and
replaying the idempotent requests of the sequence changes nothing."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import partial

import pytest
import time_machine
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import ApplicationError
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.rules.earning import share_of_points
from loyalty.services.ledger import EntrySource, account_balances, open_lots
from loyalty.services.points import (
    points_add,
    points_expire,
    points_release_for_transaction,
    points_reserve_for_transaction,
    points_subtract,
)
from loyalty.services.purchases import (
    purchase_accept,
    purchase_checkout,
    purchase_refund,
    purchase_reject,
    request_fingerprint,
)

State = Purchase.State
PURCHASE_FIELDS = ("transaction_id", "state", "refunded_total", "points_taken_back", "points_returned")


@dataclass
class PurchaseModel:
    transaction_id: str
    total: Decimal
    earned: int
    burned: int
    state: str
    pending: int
    refunded: Decimal = Decimal("0")
    taken_back: int = 0
    returned: int = 0
    forgiven: int = 0


@dataclass
class LedgerRun:
    """One account driven through the services, next to a model of what its balances should be."""

    account: LoyaltyAccount
    pending_program: bool
    forgive: bool
    balance: int = 0
    reserved: dict[str, int] = field(default_factory=dict)
    purchases: list[PurchaseModel] = field(default_factory=list)
    open_reservations: list[str] = field(default_factory=list)
    replays: list[Callable[[], object]] = field(default_factory=list)
    refunded_once: bool = False
    counter: itertools.count = field(default_factory=itertools.count)

    def new_id(self, kind: str) -> str:
        return f"{self.account.pk}-{kind}{next(self.counter)}"

    # The operations: each works out whether the model expects a refusal, calls the service through `attempt`,
    # and updates the model. Picks choose among existing purchases or reservations and do nothing when there are none.

    def checkout(self, cents: int, burned: int, reservation_pick: int) -> None:
        if reservation_pick and self.open_reservations:
            transaction_id = self.open_reservations[reservation_pick % len(self.open_reservations)]
        else:
            transaction_id = self.new_id("T")
        total = Decimal(cents) / 100
        payload = {"transaction_id": transaction_id, "total": str(total), "points_burned": burned}
        request = partial(
            purchase_checkout,
            account=self.account,
            transaction_id=transaction_id,
            total=total,
            lines=[],
            items=[],
            points_burned=burned,
            fingerprint=request_fingerprint(payload),
        )

        held = self.reserved.get(transaction_id, 0)
        used = min(held, burned)
        after_release = self.balance + (held - used if burned else 0)
        if burned and burned - used > after_release:
            self.attempt(request, refusal="INSUFFICIENT_POINTS")
            return
        self.attempt(request)
        if transaction_id in self.open_reservations:
            self.open_reservations.remove(transaction_id)
        if burned:
            self.balance = after_release - (burned - used)
            self.reserved[transaction_id] = 0
        earned = int(total)
        self.purchases.append(
            PurchaseModel(
                transaction_id=transaction_id,
                total=total,
                earned=earned,
                burned=burned,
                state=State.PENDING if self.pending_program else State.ACCEPTED,
                pending=earned if self.pending_program else 0,
            )
        )
        if not self.pending_program:
            self.balance += earned

    def add(self, points: int) -> None:
        origin = EntrySource(source="event", idempotency_key=self.new_id("add"))
        self.attempt(partial(points_add, account=self.account, points=points, origin=origin))
        self.balance += points

    def subtract(self, points: int) -> None:
        origin = EntrySource(source="event", idempotency_key=self.new_id("sub"))
        request = partial(points_subtract, account=self.account, points=points, origin=origin)
        if points > self.balance:
            self.attempt(request, refusal="INSUFFICIENT_POINTS")
            return
        self.attempt(request)
        self.balance -= points

    def reserve(self, points: int) -> None:
        transaction_id = self.new_id("R")
        origin = EntrySource(source="event", idempotency_key=self.new_id("reserve"))
        request = partial(
            points_reserve_for_transaction,
            account=self.account,
            transaction_id=transaction_id,
            points=points,
            origin=origin,
        )

        if points > self.balance:
            self.attempt(request, refusal="INSUFFICIENT_POINTS")
            return
        self.attempt(request)
        self.balance -= points
        self.reserved[transaction_id] = points
        self.open_reservations.append(transaction_id)

    def release(self, pick: int) -> None:
        if not self.reserved:
            return
        transaction_id = sorted(self.reserved)[pick % len(self.reserved)]
        origin = EntrySource(source="event", idempotency_key=self.new_id("release"))
        self.attempt(
            partial(points_release_for_transaction, account=self.account, transaction_id=transaction_id, origin=origin)
        )
        self.balance += self.reserved[transaction_id]
        self.reserved[transaction_id] = 0

    def accept(self, pick: int) -> None:
        if not self.purchases:
            return
        model = self.purchases[pick % len(self.purchases)]
        request = partial(purchase_accept, purchase=self.stored(model))
        if model.state == State.REJECTED:
            self.attempt(request, refusal="INVALID_TRANSACTION_STATE")
            return
        self.attempt(request)
        self.balance += model.pending
        model.pending = 0
        if model.state == State.PENDING:
            model.state = State.ACCEPTED

    def reject(self, pick: int) -> None:
        if not self.purchases:
            return
        model = self.purchases[pick % len(self.purchases)]
        request = partial(purchase_reject, purchase=self.stored(model))
        if model.state not in (State.PENDING, State.REJECTED):
            self.attempt(request, refusal="INVALID_TRANSACTION_STATE")
            return
        self.attempt(request)
        self.balance += model.burned - model.returned
        model.returned, model.pending, model.state = model.burned, 0, State.REJECTED

    def refund(self, pick: int, percent: int, beyond: bool) -> None:
        if not self.purchases:
            return
        model = self.purchases[pick % len(self.purchases)]
        left = model.total - model.refunded
        if beyond:
            requested: Decimal | None = left + Decimal("0.01")
        elif percent == 0:
            requested = None  # all that is left
        else:
            requested = max((left * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN), Decimal("0.01"))
        request = partial(purchase_refund, purchase=self.stored(model), amount=requested)
        if model.state in (State.REJECTED, State.REFUNDED):
            if requested is None and model.state == State.REFUNDED:
                self.attempt(request)
            else:
                self.attempt(request, refusal="INVALID_TRANSACTION_STATE")
            return
        amount = left if requested is None else requested
        if amount <= 0 or amount > left:
            self.attempt(request, refusal="REFUND_EXCEEDS_TOTAL", replayable=False)
            return
        self.attempt(request, replayable=percent == 0)
        refunded = model.refunded + amount
        to_take = share_of_points(points=model.earned, part=refunded, whole=model.total) - model.taken_back
        to_give = share_of_points(points=model.burned, part=refunded, whole=model.total) - model.returned
        self.balance += to_give
        cancelled = min(to_take, model.pending)
        from_spendable = to_take - cancelled
        if self.forgive and from_spendable > 0:
            forgiven = max(from_spendable - max(self.balance, 0), 0)
            model.forgiven += forgiven
            from_spendable -= forgiven
        self.balance -= from_spendable
        model.pending -= cancelled
        model.taken_back += to_take
        model.returned += to_give
        model.refunded = refunded
        model.state = State.REFUNDED if refunded >= model.total else State.PARTIALLY_REFUNDED
        self.refunded_once = True

    def expire(self) -> None:
        expired = points_expire(account=self.account)
        assert 0 <= expired <= max(self.balance, 0)
        self.balance -= expired

    def replay(self, pick: int) -> None:
        if self.replays:
            self.attempt(self.replays[pick % len(self.replays)], replay=True)

    # Calling the services and checking what they wrote.

    def stored(self, model: PurchaseModel) -> Purchase:
        return Purchase.objects.get(program=self.account.program_id, transaction_id=model.transaction_id)

    def snapshot(self) -> tuple:
        purchases = Purchase.objects.filter(account=self.account).order_by("id").values_list(*PURCHASE_FIELDS)
        balance = LoyaltyAccount.objects.values_list("points_balance", flat=True).get(pk=self.account.pk)
        return PointsEntry.objects.filter(account=self.account).count(), list(purchases), balance

    def attempt(
        self, request: Callable[[], object], *, refusal: str = "", replay: bool = False, replayable: bool = True
    ) -> None:
        before = self.snapshot() if refusal or replay else None
        if refusal:
            with pytest.raises(ApplicationError) as error:
                request()
            assert error.value.code == refusal
            assert self.snapshot() == before, "a refused request wrote something"
            return
        request()
        if replay:
            assert self.snapshot() == before, "a replayed request wrote something"
        elif replayable:
            self.replays.append(request)

    def check(self) -> None:
        account = LoyaltyAccount.objects.get(pk=self.account.pk)
        balances = account_balances(account)
        remaining = sum(lot.remaining for lot in open_lots(account))
        assert account.points_balance == balances.spendable == remaining - balances.owed
        assert balances.owed >= 0
        assert balances.spendable >= 0 or balances.owed > 0
        assert balances.owed == 0 or remaining == 0
        assert balances.owed == 0 or (self.refunded_once and not self.forgive)
        assert balances.pending >= 0
        assert balances.reserved >= 0
        assert balances.spendable == self.balance
        assert balances.pending == sum(model.pending for model in self.purchases)
        assert balances.reserved == sum(self.reserved.values())
        held = dict.fromkeys(self.reserved, 0)
        pending = dict.fromkeys((model.transaction_id for model in self.purchases), 0)
        by_bucket = (
            PointsEntry.objects.filter(account=account, bucket__in=["reserved", "pending"])
            .values_list("bucket", "reservation", "purchase__transaction_id")
            .annotate(total=Sum("points"))
            .order_by()
        )
        for bucket, reservation, transaction_id, total in by_bucket:
            if bucket == "reserved":
                held[reservation] += total
            else:
                pending[transaction_id] += total
        assert held == self.reserved
        stored = {
            row[0]: (*row[:-1], row[-1] is None)
            for row in Purchase.objects.filter(account=account).values_list(
                *PURCHASE_FIELDS, "points_forgiven", "confirm_at"
            )
        }
        for model in self.purchases:
            # Only a purchase whose points can still be confirmed waits for the beat job.
            awaiting = model.state == State.PENDING or (model.state == State.PARTIALLY_REFUNDED and model.pending > 0)
            assert pending[model.transaction_id] == model.pending
            assert stored[model.transaction_id] == (
                model.transaction_id,
                model.state,
                model.refunded,
                model.taken_back,
                model.returned,
                model.forgiven,
                not awaiting,
            )


operations = st.one_of(
    st.tuples(st.just("checkout"), st.integers(0, 20_000), st.integers(0, 150) | st.just(0), st.integers(0, 3)),
    st.tuples(st.just("add"), st.integers(1, 100)),
    st.tuples(st.just("subtract"), st.integers(1, 150)),
    st.tuples(st.just("reserve"), st.integers(1, 150)),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("accept"), st.integers(0, 20)),
    st.tuples(st.just("reject"), st.integers(0, 20)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(0, 100), st.booleans()),
    st.tuples(st.just("advance"), st.integers(1, 45)),
    st.tuples(st.just("replay"), st.integers(0, 50)),
)


ACCOUNTS_AND_SEQUENCES = {
    "pending_program": st.booleans(),
    "expiring": st.booleans(),
    "forgive": st.booleans(),
    "opening_points": st.integers(0, 300),
    "steps": st.lists(operations, min_size=3, max_size=12),
}
# The fixture makes a new account for every example, so sharing it between examples is what we want.
HYPOTHESIS_SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# 25 accounts of 3 to 12 operations, about 190 operations in a second: each of the ten kinds several times, refusals
# included, and new ones on every run. The slow run below tries 200 accounts, for what only a rarer sequence finds.
@pytest.mark.django_db
@settings(HYPOTHESIS_SETTINGS, max_examples=25)
@given(**ACCOUNTS_AND_SEQUENCES)
def test_any_sequence_keeps_the_ledger_consistent_and_replays_change_nothing(
    enrolled_account, pending_program, expiring, forgive, opening_points, steps
):
    sequence_keeps_the_ledger_consistent_and_replays_change_nothing(
        enrolled_account, pending_program, expiring, forgive, opening_points, steps
    )


@pytest.mark.slow
@pytest.mark.django_db
@settings(HYPOTHESIS_SETTINGS, max_examples=200)
@given(**ACCOUNTS_AND_SEQUENCES)
def test_many_more_sequences_keep_the_ledger_consistent_and_replays_change_nothing(
    enrolled_account, pending_program, expiring, forgive, opening_points, steps
):
    sequence_keeps_the_ledger_consistent_and_replays_change_nothing(
        enrolled_account, pending_program, expiring, forgive, opening_points, steps
    )


def sequence_keeps_the_ledger_consistent_and_replays_change_nothing(
    enrolled_account, pending_program, expiring, forgive, opening_points, steps
):
    # given
    account = enrolled_account(
        pending_days=14 if pending_program else 0,
        points_expiry_days=30 if expiring else None,
        negative_balance_policy="forgive" if forgive else "owe",
    )
    run = LedgerRun(account=account, pending_program=pending_program, forgive=forgive)

    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False) as clock:
        if opening_points:
            run.add(opening_points)

        # when
        for name, *arguments in steps:
            if name == "advance":
                clock.shift(timedelta(days=arguments[0]))
                run.expire()
            else:
                getattr(run, name)(*arguments)
            # then
            run.check()

        # when: the whole sequence of idempotent requests arrives again, later
        clock.shift(timedelta(days=1))
        before = run.snapshot()
        for request in run.replays:
            request()

        # then
        assert run.snapshot() == before
        run.check()
