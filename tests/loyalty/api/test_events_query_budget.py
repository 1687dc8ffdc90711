"""Query budget of the checkout event, the hot path of a till (and of an offline till's bulk replay). Measured, then
pinned exactly: a change that adds queries must say so here, and one that saves some locks the gain in.

A new checkout that earns, for a member below the top tier: no query for the API key (the process's copy of an
earlier request's, crm/api_key_cache.py), 1 replay check (the purchase with this transaction id, default program
joined); then in the event's transaction: 1 account (locked, with its customer, program and tier), 3 purchase
insert (in a savepoint: a till racing this one must not abort the transaction), 2 lot and balance, 2 tier
recalculation (tiers, qualifying value), 1 for the points webhook's pending points and version, 1 + 1 for the two
webhooks (their outbox rows, in the event's transaction without a savepoint), 1 balances for the response, 1 first
response. A burn without a reservation adds 4 (reservation check, lots, entries, balance). Inside the test's
transaction the event's transaction is a savepoint, 2 more statements; in production they are BEGIN and COMMIT.

A bulk reads the default program and the recorded purchases once, and the tiers once for all its new checkouts;
each new checkout then costs one query less than on its own (no replay check) and another less (no tiers).
"""

import pytest

from loyalty.models import Program, Tier
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import post_event

pytestmark = pytest.mark.django_db
writer = support.writer
member = support.member

CHECKOUT_QUERIES = {0: 16, 101: 20}
CHECKOUT_REPLAY_QUERIES = 1
# A bulk: 1 default program, 1 recorded purchases, then 1 tiers with the first new checkout.
BULK_QUERIES = 2
BULK_TIERS_QUERIES = 1
BULK_NEW_CHECKOUT_QUERIES = CHECKOUT_QUERIES[0] - 2
# 16 for the ledger and the response, 2 for the loyalty.points_changed webhook (outbox row, its aggregate).
POINT_SUB_QUERIES = 18


@pytest.fixture
def gold(db):
    """A tier above the entry tier, so that every checkout counts the member's qualifying points."""
    return Tier.objects.create(
        program=Program.objects.get(is_default=True), rank=1, code="gold", name="Gold", threshold=100_000
    )


def checkout(lines, burned, transaction_id="T1"):
    items = [{"product_id": str(number), "subtotal": "1.00"} for number in range(lines)]
    return {"transaction_id": transaction_id, "total": "100.00", "points_burned": burned, "items": items}


@pytest.mark.parametrize("lines", [1, 50])
@pytest.mark.parametrize("burned", [0, 101])
def test_a_checkout_runs_a_fixed_number_of_queries_whatever_its_size(
    writer, member, gold, django_assert_num_queries, lines, burned
):
    # given: three lots, so that the burn of 101 takes from two of them
    member(points=100)
    post_event(writer, "point_add", data={"points": 1})
    post_event(writer, "point_add", data={"points": 1})

    # when
    with django_assert_num_queries(CHECKOUT_QUERIES[burned]):
        response = post_event(writer, "checkout", data=checkout(lines, burned))

    # then
    assert response.status_code == 200
    assert (response.json()["spent"], response.json()["tier"]) == (burned, "member")


def test_a_member_at_the_top_tier_costs_one_query_less(writer, member, django_assert_num_queries):
    # given: the default program's only tier is the top one: there is nothing to count the points for
    member()
    post_event(writer, "point_add", data={"points": 1})  # the key's first use is recorded once

    # when
    with django_assert_num_queries(CHECKOUT_QUERIES[0] - 1):
        response = post_event(writer, "checkout", data=checkout(1, 0))

    # then
    assert (response.status_code, response.json()["spendable"]) == (200, 2)


def test_a_replayed_checkout_runs_one_query(writer, member, django_assert_num_queries):
    # given
    member(points=100)
    first = post_event(writer, "checkout", data=checkout(10, 30))

    # when
    with django_assert_num_queries(CHECKOUT_REPLAY_QUERIES):
        response = post_event(writer, "checkout", data=checkout(10, 30))

    # then
    assert (response["Idempotent-Replayed"], response.json()) == ("true", first.json())


def test_a_point_sub_runs_a_fixed_number_of_queries(writer, member, django_assert_num_queries):
    # given
    member(points=100)
    post_event(writer, "point_add", data={"points": 1})

    # when
    with django_assert_num_queries(POINT_SUB_QUERIES):
        response = post_event(writer, "point_sub", data={"points": 101})

    # then
    assert response.json()["spendable"] == 0


def test_a_bulk_of_new_checkouts_reads_the_program_its_tiers_and_the_recorded_ones_once(
    writer, member, gold, django_assert_num_queries
):
    # given
    member()
    post_event(writer, "point_add", data={"points": 1})  # the key's first use is recorded once
    queue = [{"customer": "C1001", "action": "checkout", "data": checkout(1, 0, f"T{number}")} for number in range(10)]

    # when
    with django_assert_num_queries(BULK_QUERIES + BULK_TIERS_QUERIES + 10 * BULK_NEW_CHECKOUT_QUERIES):
        response = writer.post(support.BULK, {"events": queue}, format="json")

    # then
    assert [result["status"] for result in response.json()["results"]] == [200] * 10
    assert response.json()["results"][-1]["events"][0]["points"] == 1


def test_replaying_a_bulk_of_checkouts_reads_the_recorded_ones_at_once(writer, member, django_assert_num_queries):
    # given
    member()
    queue = [
        {"customer": "C1001", "action": "checkout", "data": {"transaction_id": f"T{number}", "total": "1.00"}}
        for number in range(50)
    ]
    writer.post(support.BULK, {"events": queue}, format="json")

    # when
    with django_assert_num_queries(BULK_QUERIES):
        response = writer.post(support.BULK, {"events": queue}, format="json")

    # then
    assert {result["replayed"] for result in response.json()["results"]} == {True}
