"""The database fails while a request with an Idempotency-Key runs: the till's retry with the same key must run (not
answer 409 IDEMPOTENCY_REQUEST_IN_PROGRESS, which a till may read as "done" and so lose the event), and nothing of
the failed attempt may stay. The PostgreSQL thread tests drop the request's connection from the server side and
keep the database refusing the release of the claim, as a database restart does."""

import threading

import pytest
from django.db import Error as DatabaseLayerError
from django.db import OperationalError, connection
from rest_framework.test import APIClient

import core.idempotency as idempotency
import loyalty.services.events as events_service
from loyalty.models import PointsEntry
from loyalty.services.ledger import account_balances
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import BULK, post_event, row_counts

member = support.member
writer = support.writer
WAIT = 20  # seconds; only reached when something is broken


def database_gone(**_arguments):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def release_fails(monkeypatch):
    monkeypatch.setattr(idempotency, "idempotency_record_release", database_gone)


@pytest.fixture
def point_add_fails_after_writing(monkeypatch):
    """point_add writes its entry, then the database goes away; undo() puts the real handler back."""
    point_add = events_service.HANDLERS["point_add"]

    def point_add_then_database_gone(event, client):
        point_add(event, client)
        database_gone()

    monkeypatch.setitem(events_service.HANDLERS, "point_add", point_add_then_database_gone)
    return lambda: monkeypatch.setitem(events_service.HANDLERS, "point_add", point_add)


BULK_OF_TWO = {
    "events": [
        {"customer": "C1001", "action": "point_add", "data": {"points": 10}},
        {"customer": "C1001", "action": "point_add", "data": {"points": 20}},
    ]
}


@pytest.mark.django_db
def test_an_event_whose_database_fails_mid_work_writes_nothing_and_its_retry_runs(
    writer, member, release_fails, point_add_fails_after_writing
):
    # given
    account = member(points=100)
    before = row_counts()
    with pytest.raises(OperationalError):
        post_event(writer, "point_add", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-1")
    after_failure = row_counts()
    point_add_fails_after_writing()

    # when
    retry = post_event(writer, "point_add", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-1")

    # then
    assert after_failure == before
    assert (retry.status_code, retry.json()["spendable"]) == (200, 130)
    assert "Idempotent-Replayed" not in retry
    assert row_counts() == {**before, "entries": before["entries"] + 1, "idempotency_records": 1}
    assert account_balances(account).spendable == 130


@pytest.mark.django_db
def test_a_bulk_whose_database_fails_mid_work_can_be_retried_at_once_on_postgresql(
    on_postgres, writer, member, release_fails, point_add_fails_after_writing
):
    # given: its first event fails, and with it the release of the bulk's key
    account = member(points=100)
    before = row_counts()
    with pytest.raises(OperationalError):
        writer.post(BULK, BULK_OF_TWO, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    point_add_fails_after_writing()

    # when
    retry = writer.post(BULK, BULK_OF_TWO, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")

    # then
    assert retry.status_code == 200
    assert [result["status"] for result in retry.json()["results"]] == [200, 200]
    assert "Idempotent-Replayed" not in retry
    assert row_counts() == {**before, "entries": before["entries"] + 2, "idempotency_records": 1}
    assert account_balances(account).spendable == 130


def http_client(key):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return http


@pytest.fixture
def connection_dropped_mid_point_add(monkeypatch):
    """The first point_add writes its entry, then its database connection is terminated by the server (as in a
    database restart) before the request goes on; the point_adds after it run normally."""
    point_add = events_service.HANDLERS["point_add"]
    written, may_go_on = threading.Event(), threading.Event()
    backend = {}

    def point_add_then_wait(event, client):
        if written.is_set():
            return point_add(event, client)
        result = point_add(event, client)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend["pid"] = cursor.fetchone()[0]
        written.set()
        assert may_go_on.wait(WAIT)
        return result

    monkeypatch.setitem(events_service.HANDLERS, "point_add", point_add_then_wait)

    def run(send):
        """Run send() in a thread, terminate its connection once the entry is written; returns its error."""
        failure = {}

        def request():
            try:
                send()
            except DatabaseLayerError as error:
                failure["error"] = error
            finally:
                connection.close()

        thread = threading.Thread(target=request)
        thread.start()
        assert written.wait(WAIT)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend["pid"]])
        may_go_on.set()
        thread.join(WAIT)
        return failure.get("error")

    return run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_whose_connection_the_database_drops_can_be_retried_at_once(
    on_postgres, make_api_client, member, release_fails, connection_dropped_mid_point_add
):
    # given
    account = member(points=100)
    _http, key = make_api_client("loyalty:write")
    before = row_counts()
    error = connection_dropped_mid_point_add(
        lambda: post_event(http_client(key), "point_add", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-1")
    )

    # when
    retry = post_event(http_client(key), "point_add", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="till-7-1")

    # then
    assert isinstance(error, DatabaseLayerError)
    assert (retry.status_code, retry.json()["spendable"]) == (200, 130)
    assert "Idempotent-Replayed" not in retry
    assert row_counts() == {**before, "entries": before["entries"] + 1, "idempotency_records": 1}
    assert PointsEntry.objects.filter(account=account, points=30).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_bulk_whose_connection_the_database_drops_can_be_retried_at_once(
    on_postgres, make_api_client, member, release_fails, connection_dropped_mid_point_add
):
    # given
    account = member(points=100)
    _http, key = make_api_client("loyalty:write")
    before = row_counts()
    error = connection_dropped_mid_point_add(
        lambda: http_client(key).post(BULK, BULK_OF_TWO, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    )

    # when
    retry = http_client(key).post(BULK, BULK_OF_TWO, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")

    # then: the first event had not committed; the retry applies each event once
    assert isinstance(error, DatabaseLayerError)
    assert retry.status_code == 200
    assert [result["status"] for result in retry.json()["results"]] == [200, 200]
    assert row_counts() == {**before, "entries": before["entries"] + 2, "idempotency_records": 1}
    assert account_balances(account).spendable == 130
