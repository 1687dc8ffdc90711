"""The database drops every connection of the app while tills keep sending checkouts and point additions (the
server side of a database restart: pg_terminate_backend from a connection of the test's own, which a restart of a
shared cluster would be too disruptive for). Some requests fail; once the database answers again, every till
retries with the same Idempotency-Key (and transaction id, for a checkout), and nothing may be partial, counted
twice or left claimed."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import DatabaseError, connection
from django.db.models import Sum
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import account_balances
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import post_event

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
member = support.member

TILLS = 4
REQUESTS_PER_TILL = 8
WAIT = 20  # seconds; only reached when something is broken


class ConnectionKiller:
    """Terminates every other backend of the test database every `interval` seconds, from a connection of its
    own, until stopped; counts the backends it terminated."""

    def __init__(self, interval: float) -> None:
        settings = connection.settings_dict
        self._connection = psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname=settings["NAME"],
            autocommit=True,
            connect_timeout=5,
        )
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.terminated = 0

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            rows = self._connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchall()
            self.terminated += sum(1 for (done,) in rows if done)

    def __enter__(self) -> "ConnectionKiller":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopped.set()
        self._thread.join(WAIT)
        self._connection.close()


def http_client(key):
    http = APIClient(raise_request_exception=False)
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return http


def is_checkout(number):
    return number % 2 == 0


def send(http, number):
    """Request <number> with Idempotency-Key till-<number>: checkout T<number> (10 points) when the number is even,
    a point_add of 5 points otherwise (the event that claims its key in core.models.IdempotencyRecord). Its status
    and response, or the name of the database error it raised."""
    if is_checkout(number):
        action, data = "checkout", {"transaction_id": f"T{number}", "total": "10.00"}
    else:
        action, data = "point_add", {"points": 5}
    try:
        response = post_event(http, action, data=data, HTTP_IDEMPOTENCY_KEY=f"till-{number}")
    except DatabaseError as error:
        connection.close()  # the next request opens a new connection, as Django does between requests
        return type(error).__name__, None
    if response.status_code >= 500:
        connection.close()
    return response.status_code, response


def test_requests_whose_connections_are_killed_are_whole_or_absent_and_their_retries_count_once(
    on_postgres, make_api_client, member
):
    # given
    account = member(points=0)
    _http, key = make_api_client("loyalty:write")
    connection.close()  # the killer terminates this connection too: the test reopens it afterwards
    per_till = [[till * REQUESTS_PER_TILL + index for index in range(REQUESTS_PER_TILL)] for till in range(TILLS)]
    barrier = threading.Barrier(TILLS)

    def till(own_numbers):
        try:
            barrier.wait(WAIT)
            http = http_client(key)
            return [(number, *send(http, number)) for number in own_numbers]
        finally:
            connection.close()

    # when: the tills send their requests while the database keeps dropping their connections
    started = time.monotonic()
    with ConnectionKiller(interval=0.1) as killer, ThreadPoolExecutor(max_workers=TILLS) as pool:
        first_attempts = [outcome for outcomes in pool.map(till, per_till) for outcome in outcomes]
    assert time.monotonic() - started < WAIT

    # and then every till retries every request once the database answers again
    connection.close()
    http = http_client(key)
    retries = {number: send(http, number) for number, _status, _response in first_attempts}

    # then: the killing hit requests, and some went through
    failed = [number for number, status, _response in first_attempts if status != 200]
    assert killer.terminated > 0
    assert failed, "no request was hit: the test proved nothing"
    assert all(
        status == 200 or status in ("OperationalError", "InterfaceError", 500)
        for _number, status, _response in first_attempts
    ), first_attempts
    # every retry succeeds; one that already went through is replayed with its first answer
    assert {number: status for number, (status, _response) in retries.items()} == dict.fromkeys(
        range(TILLS * REQUESTS_PER_TILL), 200
    )
    for number, status, response in first_attempts:
        if status == 200:
            retry = retries[number][1]
            assert (retry["Idempotent-Replayed"], retry.json()) == ("true", response.json())
    # each checkout counted once, with its ledger rows, and the cached balance equals the ledger
    numbers = range(TILLS * REQUESTS_PER_TILL)
    purchases = Purchase.objects.filter(account=account)
    assert sorted(purchases.values_list("transaction_id", flat=True)) == sorted(
        f"T{number}" for number in numbers if is_checkout(number)
    )
    for purchase in purchases:
        earned = PointsEntry.objects.filter(purchase=purchase, points__gt=0).aggregate(total=Sum("points"))["total"]
        assert (purchase.points_earned, earned) == (10, 10), purchase.transaction_id
    additions = PointsEntry.objects.filter(account=account, purchase=None).values_list("points", flat=True)
    assert sorted(additions) == [5] * len([number for number in numbers if not is_checkout(number)])
    account.refresh_from_db()
    assert account.points_balance == account_balances(account).spendable
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == account_balances(account).spendable
    # no key is left claimed
    assert IdempotencyRecord.objects.filter(state=IdempotencyRecord.State.IN_PROGRESS).count() == 0
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == sorted(
        f"till-{number}" for number in numbers if not is_checkout(number)
    )
