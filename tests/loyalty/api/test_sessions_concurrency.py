"""Concurrent first sessions on PostgreSQL (SQLite serialises writers anyway): each thread has its own APIClient
and database connection, closed when the thread ends."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from crm.models import Customer
from loyalty.models import LoyaltyAccount
from webhooks.models import WebhookEvent

# transaction=True: the threads' own connections must see the test's rows. The flush after each test also empties
# the default program; tests/conftest.py's migrated_data_present puts it back before the next database test.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 20  # seconds; only reached when something is broken


def in_threads(count, send):
    """Run send(index) in `count` threads released together; returns their results."""
    barrier = threading.Barrier(count)

    def run(index):
        try:
            barrier.wait(WAIT)
            return send(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def session(key, merchant_id, email):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = http.post(
        "/api/v1/sessions?channel=web",
        {"merchant_id": merchant_id, "customer": {"email": email, "first_name": "Ada"}},
        format="json",
    )
    return response.status_code, response.json()


# Without an email no unique index can catch a duplicate: only the merchant_id lock keeps it to one customer. With
# one, the index would keep it to one customer too, but without the lock nine sessions would answer 422.
@pytest.mark.parametrize("email", ["ada@example.com", None])
def test_ten_concurrent_first_sessions_for_one_merchant_id_create_one_customer(on_postgres, make_api_client, email):
    # given
    _http, key = make_api_client("loyalty:write")

    # when: a double page load, ten times over
    outcomes = in_threads(10, lambda _index: session(key, "shop-1001", email))

    # then
    assert [status for status, _body in outcomes] == [200] * 10
    assert {body["customer"]["id"] for _status, body in outcomes} == {Customer.objects.get().public_id}
    assert {body["customer"]["state"] for _status, body in outcomes} == {"enrolled"}
    assert Customer.objects.filter(alternate_customer_id="shop-1001").count() == 1
    assert LoyaltyAccount.objects.count() == 1
    assert Counter(WebhookEvent.objects.values_list("type", flat=True)) == {
        "customer.created": 1,
        "loyalty.enrolled": 1,
    }


def test_concurrent_first_sessions_of_two_merchant_ids_with_one_email_create_one_customer(on_postgres, make_api_client):
    # given
    _http, key = make_api_client("loyalty:write")

    # when: two shop accounts claim one email at the same moment, five times each
    outcomes = in_threads(10, lambda index: session(key, f"shop-{index % 2}", "ada@example.com"))

    # then: the first to commit owns the email; the other merchant_id is told so, with nothing written for it
    winner = Customer.objects.get()
    statuses = Counter(
        (status, body.get("customer", {}).get("merchant_id") or body.get("code")) for status, body in outcomes
    )
    assert statuses == {(200, winner.alternate_customer_id): 5, (422, "email_already_in_use"): 5}
    assert LoyaltyAccount.objects.count() == 1
