"""Real concurrency over HTTP, on PostgreSQL (row locks; SQLite serialises writers anyway). Each thread has its
own APIClient and database connection, closed when the thread ends."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

import loyalty.services.events as events_service
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import account_balances
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import post_event

# transaction=True: the threads' own connections must see the test's rows. The flush after each test also empties
# the default program; tests/conftest.py's migrated_data_present puts it back before the next database test.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
member = support.member


WAIT = 20  # seconds; only reached when something is broken


def http_client(key):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return http


def in_threads(count, send):
    """Run send() in `count` threads released together; returns their results."""
    barrier = threading.Barrier(count)

    def run(_index):
        try:
            barrier.wait(WAIT)
            return send()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_fifty_concurrent_burns_on_points_for_twenty_never_overdraw(on_postgres, make_api_client, member):
    # given
    account = member(points=200)
    _http, key = make_api_client("loyalty:write")

    def burn():
        response = post_event(http_client(key), "point_sub", data={"points": 10})
        return response.status_code, response.json().get("code")

    # when
    outcomes = in_threads(50, burn)

    # then
    assert Counter(outcomes) == {(200, None): 20, (409, "INSUFFICIENT_POINTS"): 30}
    assert account_balances(account).spendable == 0
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 0
    burns = PointsEntry.objects.filter(account=account, kind=PointsEntry.Kind.ADJUST, points__lt=0)
    assert list(burns.values_list("points", flat=True)) == [-10] * 20


def test_the_same_checkout_sent_by_ten_tills_at_once_is_recorded_once(on_postgres, make_api_client, member):
    # given
    account = member(points=50)
    _http, key = make_api_client("loyalty:write")
    data = {"transaction_id": "T1", "total": "100.00", "points_burned": 50}

    def send():
        response = post_event(http_client(key), "checkout", data=data)
        return response.status_code, response.get("Idempotent-Replayed"), response.json()

    # when
    outcomes = in_threads(10, send)

    # then
    assert Counter((status, replayed) for status, replayed, _body in outcomes) == {(200, None): 1, (200, "true"): 9}
    bodies = [body for _status, _replayed, body in outcomes]
    assert all(body == bodies[0] for body in bodies)  # equal content (jsonb does not keep the key order)
    assert Purchase.objects.filter(transaction_id="T1").count() == 1
    balances = account_balances(account)
    assert (balances.spendable, balances.spent) == (100, 50)


def test_a_duplicate_sent_while_the_first_is_running_is_409_and_never_a_second_write(
    on_postgres, make_api_client, member, monkeypatch
):
    # given
    account = member(points=100)
    _http, key = make_api_client("loyalty:write")
    started, may_finish = threading.Event(), threading.Event()
    point_sub = events_service.HANDLERS["point_sub"]

    def slow_point_sub(event, client):
        started.set()
        assert may_finish.wait(WAIT)
        return point_sub(event, client)

    monkeypatch.setitem(events_service.HANDLERS, "point_sub", slow_point_sub)
    first = {}

    def send_first():
        try:
            first["response"] = post_event(
                http_client(key), "point_sub", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-9"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=send_first)
    thread.start()
    assert started.wait(WAIT)

    # when
    duplicate = post_event(http_client(key), "point_sub", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-9")
    may_finish.set()
    thread.join(WAIT)
    retry = post_event(http_client(key), "point_sub", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-9")

    # then
    assert duplicate.status_code == 409
    assert duplicate.json() == {
        "message": "A request with this idempotency key is still being processed. Retry later.",
        "code": "IDEMPOTENCY_REQUEST_IN_PROGRESS",
        "extra": {"field": "Idempotency-Key"},
    }
    assert first["response"].status_code == 200
    assert (retry.status_code, retry["Idempotent-Replayed"], retry.json()) == (200, "true", first["response"].json())
    assert account_balances(account).spendable == 70
    assert PointsEntry.objects.filter(account=account, points__lt=0).count() == 1
