"""The periodic jobs: each does its work once, a second run changes nothing, one failing item does not stop the
others, big backlogs go in batches, and a real worker consuming a real queue runs them."""

import logging
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import OperationalError, connections
from kombu.transport.filesystem import Transport as FilesystemTransport

from config.celery_app import app as celery_app
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase, Tier, TierChange
from loyalty.services.ledger import EntrySource, account_balances
from loyalty.services.points import points_add, points_subtract
from loyalty.services.purchases import purchase_refund, purchase_reject
from loyalty.tasks import confirm_due_purchases_task, evaluate_tier_expiry_task, expire_points_task
from tests.loyalty.factories import PurchaseFactory
from tests.webhooks.helpers import celery_app_configured

WORKER_WAIT_SECONDS = 30
STOP_CHECK_SECONDS = 0.1


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def checkout(account, transaction_id, total, burned=0):
    return PurchaseFactory(account=account, transaction_id=transaction_id, total=total, points_burned=burned)


def everything_the_jobs_write():
    """The rows the jobs may add or change, to compare before and after a second run."""
    return (
        list(PointsEntry.objects.order_by("pk").values_list("pk", "kind", "bucket", "points", "lot_id")),
        list(LoyaltyAccount.objects.order_by("pk").values_list("pk", "points_balance", "tier_id", "tier_expires_at")),
        list(Purchase.objects.order_by("pk").values_list("pk", "state", "confirm_at")),
        list(TierChange.objects.order_by("pk").values_list("pk", "to_tier_id", "reason")),
    )


def job_log(caplog) -> list[tuple[str, str]]:
    return [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name in ("loyalty.tasks", "loyalty.services.jobs")
    ]


# Confirming pending points ---------------------------------------------------------------------------------------


def test_confirm_job_confirms_only_purchases_whose_return_window_closed(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    with time_machine.travel(at("2026-03-01T10:00:00"), tick=False):
        due = checkout(account, "T1", "80")
    with time_machine.travel(at("2026-03-10T10:00:00"), tick=False):
        not_due = checkout(account, "T2", "20")

    # when
    with time_machine.travel(at("2026-03-15T10:00:00"), tick=False):
        confirm_due_purchases_task.delay()

    # then
    balances = account_balances(account)
    assert (balances.spendable, balances.pending) == (80, 20)
    assert Purchase.objects.filter(pk=due.pk).values_list("state", "confirm_at").get() == ("accepted", None)
    assert Purchase.objects.filter(pk=not_due.pk).values_list("state", "confirm_at").get() == (
        "pending",
        at("2026-03-24T10:00:00"),
    )
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 80


def test_confirm_job_run_twice_changes_nothing_the_second_time(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    with time_machine.travel(at("2026-03-01T10:00:00"), tick=False):
        checkout(account, "T1", "80")
        checkout(account, "T2", "30")
    with time_machine.travel(at("2026-03-15T10:00:00"), tick=False):
        confirm_due_purchases_task.delay()
        after_first_run = everything_the_jobs_write()

        # when
        confirm_due_purchases_task.delay()

    # then
    assert everything_the_jobs_write() == after_first_run
    assert account_balances(account).spendable == 110


def test_confirm_job_rolls_back_a_failing_purchase_and_confirms_the_others(enrolled_account, monkeypatch, caplog):
    # given
    account = enrolled_account(pending_days=14)
    with time_machine.travel(at("2026-03-01T10:00:00"), tick=False):
        first, failing, last = (checkout(account, f"T{number}", "10") for number in range(1, 4))
    from loyalty.services import jobs

    real_accept = jobs.purchase_accept

    def accept_then_lose_the_lock(*, purchase):
        accepted = real_accept(purchase=purchase)
        if purchase.pk == failing.pk:
            raise OperationalError("canceling statement due to lock timeout")
        return accepted

    monkeypatch.setattr(jobs, "purchase_accept", accept_then_lose_the_lock)
    caplog.set_level(logging.INFO)

    # when
    with time_machine.travel(at("2026-03-15T10:00:00"), tick=False):
        confirm_due_purchases_task.delay()

    # then
    states = dict(Purchase.objects.values_list("pk", "state"))
    assert states == {first.pk: "accepted", failing.pk: "pending", last.pk: "accepted"}
    balances = account_balances(account)
    assert (balances.spendable, balances.pending) == (20, 10)
    assert job_log(caplog) == [
        ("WARNING", f"confirm_due_purchases: item {failing.pk} failed (OperationalError); the next run retries it"),
        ("INFO", "loyalty.tasks.confirm_due_purchases_task: 3 due, 2 changed, 1 failed"),
    ]
    customer = account.customer
    assert [name for name in (customer.first_name, customer.last_name, customer.email) if name in caplog.text] == []


def test_confirm_job_skips_rejected_purchases_without_reporting_a_failure(enrolled_account, caplog):
    # given
    account = enrolled_account(pending_days=14)
    with time_machine.travel(at("2026-03-01T10:00:00"), tick=False):
        rejected = checkout(account, "T1", "50")
        purchase_reject(purchase=rejected)
    caplog.set_level(logging.INFO)

    # when
    with time_machine.travel(at("2026-03-15T10:00:00"), tick=False):
        confirm_due_purchases_task.delay()

    # then
    assert Purchase.objects.get(pk=rejected.pk).state == "rejected"
    assert (account_balances(account).spendable, account_balances(account).pending) == (0, 0)
    assert job_log(caplog) == [("INFO", "loyalty.tasks.confirm_due_purchases_task: 0 due, 0 changed, 0 failed")]


def test_confirm_job_confirms_a_partially_refunded_purchase_still_pending(enrolled_account):
    # given
    account = enrolled_account(pending_days=14)
    with time_machine.travel(at("2026-03-01T10:00:00"), tick=False):
        purchase = checkout(account, "T1", "100")
        purchase_refund(purchase=purchase, amount=Decimal("40"))

    # when
    with time_machine.travel(at("2026-03-15T10:00:00"), tick=False):
        confirm_due_purchases_task.delay()

    # then
    assert Purchase.objects.filter(pk=purchase.pk).values_list("state", "confirm_at").get() == (
        "partially_refunded",
        None,
    )
    balances = account_balances(account)
    assert (balances.spendable, balances.pending) == (60, 0)


def test_a_backlog_bigger_than_a_batch_is_worked_off_in_batches(enrolled_account, monkeypatch, caplog):
    # given
    monkeypatch.setattr("loyalty.tasks.BATCH_SIZE", 2)
    accounts = [enrolled_account(pending_days=14) for _ in range(5)]
    with time_machine.travel(at("2026-03-01T10:00:00"), tick=False):
        for number, account in enumerate(accounts):
            checkout(account, f"T{number}", "10")
    caplog.set_level(logging.INFO)

    # when
    with time_machine.travel(at("2026-03-15T10:00:00"), tick=False):
        confirm_due_purchases_task.delay()

    # then
    assert set(Purchase.objects.values_list("state", flat=True)) == {"accepted"}
    assert [account_balances(account).spendable for account in accounts] == [10] * 5
    assert job_log(caplog) == [
        ("INFO", "loyalty.tasks.confirm_due_purchases_task: 2 due, 2 changed, 0 failed"),
        ("INFO", "loyalty.tasks.confirm_due_purchases_task: 2 due, 2 changed, 0 failed"),
        ("INFO", "loyalty.tasks.confirm_due_purchases_task: 1 due, 1 changed, 0 failed"),
    ]


# Expiring points -------------------------------------------------------------------------------------------------


def test_expire_job_expires_only_the_remainder_of_lots_past_their_date(enrolled_account):
    # given
    account = enrolled_account(points_expiry_days=30)
    untouched = enrolled_account()
    with time_machine.travel(at("2026-01-01T00:00:00"), tick=False):
        checkout(account, "T1", "100")
    with time_machine.travel(at("2026-01-20T00:00:00"), tick=False):
        checkout(untouched, "T2", "100")
        checkout(account, "T3", "50")
        points_subtract(account=account, points=40, origin=EntrySource(source="event"))

    # when
    with time_machine.travel(at("2026-02-05T00:00:00"), tick=False):
        expire_points_task.delay()

    # then
    balances = account_balances(account)
    assert (balances.spendable, balances.expired) == (50, 60)
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 50
    assert list(PointsEntry.objects.filter(kind="expire").values_list("account_id", "points")) == [(account.pk, -60)]
    assert account_balances(untouched).spendable == 100


def test_expire_job_run_twice_changes_nothing_the_second_time(enrolled_account):
    # given
    accounts = [enrolled_account(points_expiry_days=30) for _ in range(3)]
    with time_machine.travel(at("2026-01-01T00:00:00"), tick=False):
        for number, account in enumerate(accounts):
            points_add(account=account, points=10 * (number + 1), origin=EntrySource(source="event"))
    with time_machine.travel(at("2026-02-05T00:00:00"), tick=False):
        expire_points_task.delay()
        after_first_run = everything_the_jobs_write()

        # when
        expire_points_task.delay()

    # then
    assert everything_the_jobs_write() == after_first_run
    assert [account_balances(account).expired for account in accounts] == [10, 20, 30]


# Tier expiry -----------------------------------------------------------------------------------------------------


@pytest.fixture
def silver(program):
    Program.objects.filter(pk=program.pk).update(tier_validity_days=30)
    return Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("100"))


def test_tier_job_renews_a_tier_whose_threshold_is_met_and_downgrades_one_whose_is_not(enrolled_account, silver):
    # given
    keeper, dropper = enrolled_account(), enrolled_account()
    with time_machine.travel(at("2026-01-01T12:00:00"), tick=False):
        checkout(keeper, "T1", "150")
        refunded = checkout(dropper, "T2", "120")
    with time_machine.travel(at("2026-01-10T12:00:00"), tick=False):
        purchase_refund(purchase=refunded, amount=Decimal("100"))

    # when
    with time_machine.travel(at("2026-02-01T02:30:00"), tick=False):
        evaluate_tier_expiry_task.delay()

    # then
    keeper = LoyaltyAccount.objects.get(pk=keeper.pk)
    dropper = LoyaltyAccount.objects.get(pk=dropper.pk)
    assert (keeper.tier_id, keeper.tier_expires_at) == (silver.pk, at("2026-03-02T12:00:00"))
    assert (dropper.tier.code, dropper.tier_expires_at) == ("member", None)
    changes = TierChange.objects.filter(changed_at=at("2026-02-01T02:30:00")).order_by("account_id")
    assert list(changes.values_list("account_id", "reason")) == [(keeper.pk, "renewal"), (dropper.pk, "downgrade")]


def test_tier_job_run_twice_changes_nothing_the_second_time(enrolled_account, silver):
    # given
    accounts = [enrolled_account() for _ in range(3)]
    with time_machine.travel(at("2026-01-01T12:00:00"), tick=False):
        for number, account in enumerate(accounts):
            checkout(account, f"T{number}", "150")
    with time_machine.travel(at("2026-02-01T02:30:00"), tick=False):
        evaluate_tier_expiry_task.delay()
        after_first_run = everything_the_jobs_write()

        # when
        evaluate_tier_expiry_task.delay()

    # then
    assert everything_the_jobs_write() == after_first_run
    assert TierChange.objects.filter(reason="renewal").count() == 3


# A real worker ---------------------------------------------------------------------------------------------------


@pytest.fixture
def filesystem_celery_app(tmp_path, monkeypatch):
    """The project's Celery app on kombu's filesystem broker in a folder of its own, sending tasks instead of
    running them eagerly, with no remote control (no pidbox queue to poll); as it was before, afterwards."""
    # The worker's loop waits up to 2 s for a message before it looks at its stop flag, and waits once more while
    # stopping; shorter waits (the transport still polls the folder as usual) let it stop in a fraction of that.
    drain_events = FilesystemTransport.drain_events
    monkeypatch.setattr(
        FilesystemTransport,
        "drain_events",
        lambda self, connection, timeout=None, **kwargs: drain_events(
            self, connection, timeout=timeout if timeout is None else min(timeout, STOP_CHECK_SECONDS), **kwargs
        ),
    )
    folder = str(tmp_path)
    transport_options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "control_folder": folder,
        "polling_interval": 0.05,
    }
    with celery_app_configured(
        celery_app,
        broker_url="filesystem://",
        broker_transport_options=transport_options,
        task_always_eager=False,
        worker_enable_remote_control=False,
    ) as app:
        yield app


def test_a_real_worker_consumes_the_queue_and_expires_points(
    transactional_db, filesystem_celery_app, loyalty_account_factory
):
    # given
    program = Program.objects.create(code="worker", name="Worker test", points_expiry_days=30)
    Tier.objects.create(program=program, rank=0, code="member", name="Member")
    account = loyalty_account_factory(program=program)
    with time_machine.travel(at("2026-01-01T00:00:00"), tick=False):
        points_add(account=account, points=100, origin=EntrySource(source="event"))
    finished = threading.Event()
    states = []

    def on_task_done(sender=None, state=None, **kwargs):
        if sender.name == expire_points_task.name:
            states.append(state)
            # This runs in the worker thread: close its connection so that nothing holds the test database open.
            connections.close_all()
            finished.set()

    task_postrun.connect(on_task_done, weak=False)
    started = time.monotonic()
    try:
        with start_worker(filesystem_celery_app, pool="solo", perform_ping_check=False):
            # when
            expire_points_task.delay()
            finished.wait(WORKER_WAIT_SECONDS)
    finally:
        task_postrun.disconnect(on_task_done)

    # then
    assert (finished.is_set(), states) == (True, ["SUCCESS"])
    balances = account_balances(account)
    assert (balances.spendable, balances.expired) == (0, 100)
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 0
    assert time.monotonic() - started < 5
