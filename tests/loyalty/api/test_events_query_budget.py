"""Query budget of the checkout event, the hot path of a till. Measured, then pinned: a change that adds queries
must say so here.

A new checkout with a burn: 1 API key, 1 customer, 1 default program, 1 account, 2 for the event's transaction;
purchase_checkout 25 (2 savepoint, 1 replay check, 1 account lock, 2 program and tier, 6 for full_clean's two
CheckConstraints, 3 purchase insert, 5 burn, 3 lot and balance and debt, 2 tier); then 1 ledger entries, 1 balances,
1 first response. Without a burn it is 5 fewer. A replay: 9. Inside the test's transaction, transactions are
savepoints, counted here as queries; in production they are BEGIN/COMMIT.
"""

import pytest

from tests.loyalty.api import test_events_support as support
from tests.loyalty.api.test_events_support import post_event

pytestmark = pytest.mark.django_db
writer = support.writer
member = support.member

CHECKOUT_QUERIES = 34
CHECKOUT_REPLAY_QUERIES = 9
# 17 for the ledger and the response, 4 for the loyalty.points_changed webhook (outbox row, its aggregate, savepoints).
POINT_SUB_QUERIES = 21


def checkout(lines, burned):
    items = [{"product_id": str(number), "subtotal": "1.00"} for number in range(lines)]
    return {"transaction_id": "T1", "total": "100.00", "points_burned": burned, "items": items}


@pytest.mark.parametrize("lines", [1, 50])
@pytest.mark.parametrize("burned", [0, 101])
def test_a_checkout_runs_a_bounded_number_of_queries_whatever_its_size(
    writer, member, django_assert_max_num_queries, lines, burned
):
    # given: three lots, so that the burn of 101 takes from two of them
    member(points=100)
    post_event(writer, "point_add", data={"points": 1})
    post_event(writer, "point_add", data={"points": 1})

    # when
    with django_assert_max_num_queries(CHECKOUT_QUERIES):
        response = post_event(writer, "checkout", data=checkout(lines, burned))

    # then
    assert response.status_code == 200
    assert response.json()["spent"] == burned


def test_a_replayed_checkout_runs_a_bounded_number_of_queries(writer, member, django_assert_max_num_queries):
    # given
    member(points=100)
    post_event(writer, "checkout", data=checkout(10, 30))

    # when
    with django_assert_max_num_queries(CHECKOUT_REPLAY_QUERIES):
        response = post_event(writer, "checkout", data=checkout(10, 30))

    # then
    assert response["Idempotent-Replayed"] == "true"


def test_a_point_sub_runs_a_bounded_number_of_queries(writer, member, django_assert_max_num_queries):
    # given
    member(points=100)
    post_event(writer, "point_add", data={"points": 1})

    # when
    with django_assert_max_num_queries(POINT_SUB_QUERIES):
        response = post_event(writer, "point_sub", data={"points": 101})

    # then
    assert response.json()["spendable"] == 0


def test_replaying_a_bulk_of_checkouts_reads_the_recorded_ones_at_once(writer, member, django_assert_max_num_queries):
    # given
    member()
    queue = [
        {"customer": "C1001", "action": "checkout", "data": {"transaction_id": f"T{number}", "total": "1.00"}}
        for number in range(50)
    ]
    writer.post(support.BULK, {"events": queue}, format="json")

    # when: 1 API key, 1 default program, 1 purchases
    with django_assert_max_num_queries(3):
        response = writer.post(support.BULK, {"events": queue}, format="json")

    # then
    assert {result["replayed"] for result in response.json()["results"]} == {True}
