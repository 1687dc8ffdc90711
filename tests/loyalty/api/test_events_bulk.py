"""POST /api/v1/events/bulk: a till's offline queue. Events run in order, each in its own transaction; a bad one
fails alone; posting the same queue again counts nothing twice."""

import pytest

from core.models import IdempotencyRecord
from crm.models import Customer
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import account_balances
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import BULK, NOW, new_entry_ids, post_event, row_counts, transaction_summary

pytestmark = pytest.mark.django_db
writer = support.writer
member = support.member


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


def checkout(transaction_id, total="100.00", customer="C1001"):
    return {"customer": customer, "action": "checkout", "data": {"transaction_id": transaction_id, "total": total}}


def test_one_bad_event_fails_alone_and_the_others_are_applied_in_order(writer, member, deterministic_ids):
    # given
    account = member(points=10)
    events = [
        checkout("T1"),
        {"customer": "C1001", "action": "checkout", "data": {"transaction_id": "T2"}},
        {"customer": "C1001", "action": "point_sub", "data": {"points": 500}},
        {"customer": "C9999", "action": "opt_out"},
        {
            "customer": "C1001",
            "action": "coupon_redeem",
            "data": {"code": "WELCOME10", "transaction_id": "T9", "channel": "pos", "amount": "10.00"},
        },
        {"customer": "C1001", "action": "point_sub", "data": {"points": 105}, "idempotency_key": "till-7-1"},
        {"action": "opt_in", "data": {"email": "ann@example.com", "first_name": "Ann"}},
        "not an event",
    ]

    # when
    response = writer.post(BULK, {"events": events}, format="json")

    # then
    assert response.status_code == 200
    earn, *burns = new_entry_ids(account, 3)
    assert response.json() == {
        "results": [
            {
                "index": 0,
                "status": 200,
                "customer": "C1001",
                "events": [{"id": earn, "action": "checkout", "kind": "earn", "points": 100, "expdate": None}],
                "transaction": transaction_summary(),
                "replayed": False,
            },
            {
                "index": 1,
                "status": 400,
                "error": {
                    "message": "data.total: This field is required.",
                    "code": "validation_error",
                    "extra": {"fields": {"data.total": ["This field is required."]}},
                },
            },
            {
                "index": 2,
                "status": 409,
                "error": {
                    "message": "Not enough points: 110 available, 500 requested.",
                    "code": "INSUFFICIENT_POINTS",
                    "extra": {"field": "points", "available": 110},
                },
            },
            {
                "index": 3,
                "status": 404,
                "error": {
                    "message": "Customer not found.",
                    "code": "CUSTOMER_NOT_FOUND",
                    "extra": {"field": "customer"},
                },
            },
            {
                "index": 4,
                "status": 404,
                "error": {"message": "No such coupon code.", "code": "COUPON_NOT_FOUND", "extra": {}},
            },
            {
                "index": 5,
                "status": 200,
                "customer": "C1001",
                "events": [
                    {"id": burns[0], "action": "point_sub", "kind": "adjust", "points": -10, "expdate": None},
                    {"id": burns[1], "action": "point_sub", "kind": "adjust", "points": -95, "expdate": None},
                ],
                "replayed": False,
            },
            {"index": 6, "status": 200, "customer": "C000000000001", "events": [], "replayed": False},
            {
                "index": 7,
                "status": 400,
                "error": {
                    "message": "Invalid data. Expected a dictionary, but got str.",
                    "code": "validation_error",
                    "extra": {"fields": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}},
                },
            },
        ],
        "total": 8,
        "errors": 5,
    }
    assert account_balances(account).spendable == 5
    assert Customer.objects.get(public_id="C000000000001").email == "ann@example.com"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"events": [checkout(f"T{n}") for n in range(501)]},
            "events: Ensure this field has no more than 500 elements.",
        ),
        ({"events": {"0": checkout("T1")}}, 'events: Expected a list of items but got type "dict".'),
        ({"events": []}, "events: This list may not be empty."),
        ({}, "events: This field is required."),
        ([checkout("T1")], "Invalid data. Expected a dictionary, but got list."),
    ],
)
def test_a_batch_that_is_not_a_list_of_at_most_500_is_refused_whole(writer, member, body, message):
    # given
    member()
    before = row_counts()

    # when
    response = writer.post(BULK, body, format="json")

    # then
    assert response.status_code == 400
    assert (response.json()["message"], response.json()["code"]) == (message, "validation_error")
    assert row_counts() == before


# A replayed bulk, whatever its size: the API key, the default program and the recorded purchases.
BULK_REPLAY_QUERIES = 3


# Two batches of 25 already show the replay reading the recorded purchases at once (the budget is less than one
# query per event) and counting nothing twice across batches; the two full batches of 500 run under the slow mark.
@pytest.mark.parametrize(
    ("checkouts", "batch_size"),
    [(50, 25), pytest.param(1000, 500, marks=pytest.mark.slow)],
)
def test_the_same_offline_queue_of_checkouts_posted_twice_counts_each_purchase_once(
    writer, member, django_assert_max_num_queries, checkouts, batch_size
):
    # given
    account = member()
    queue = [checkout(f"POS7-{number:04d}", total="10.00") for number in range(checkouts)]
    starts = range(0, checkouts, batch_size)
    first_round = [writer.post(BULK, {"events": queue[start : start + batch_size]}, format="json") for start in starts]

    # when
    second_round = []
    for start in starts:
        with django_assert_max_num_queries(BULK_REPLAY_QUERIES):
            second_round.append(writer.post(BULK, {"events": queue[start : start + batch_size]}, format="json"))

    # then
    for first, second in zip(first_round, second_round, strict=True):
        assert (first.status_code, first.json()["errors"], second.status_code, second.json()["errors"]) == (
            200,
            0,
            200,
            0,
        )
        assert {result["replayed"] for result in first.json()["results"]} == {False}
        assert {result["replayed"] for result in second.json()["results"]} == {True}
        assert [result["events"] for result in second.json()["results"]] == [
            result["events"] for result in first.json()["results"]
        ]
    assert Purchase.objects.filter(account=account).count() == checkouts
    assert PointsEntry.objects.filter(account=account).count() == checkouts
    assert account_balances(account).spendable == 10 * checkouts
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 10 * checkouts


def test_events_with_their_own_idempotency_key_count_once_when_the_queue_is_posted_again(writer, member):
    # given
    account = member()
    queue = [
        {"customer": "C1001", "action": "point_add", "data": {"points": 10}, "idempotency_key": f"till-7-{n}"}
        for n in range(3)
    ]
    writer.post(BULK, {"events": queue}, format="json")

    # when
    again = writer.post(BULK, {"events": queue}, format="json")

    # then
    assert [(result["status"], result["replayed"]) for result in again.json()["results"]] == [(200, True)] * 3
    assert account_balances(account).spendable == 30
    assert IdempotencyRecord.objects.count() == 3


def test_a_bulk_event_key_is_the_same_key_as_a_single_events_header(writer, member):
    # given
    account = member()
    post_event(writer, "point_add", data={"points": 10}, HTTP_IDEMPOTENCY_KEY="till-7-1")

    # when
    response = writer.post(
        BULK,
        {
            "events": [
                {"customer": "C1001", "action": "point_add", "data": {"points": 10}, "idempotency_key": "till-7-1"},
                {"customer": "C1001", "action": "point_add", "data": {"points": 11}, "idempotency_key": "till-7-1"},
                {"customer": "C1001", "action": "point_add", "data": {"points": 12}, "idempotency_key": "k" * 256},
            ]
        },
        format="json",
    )

    # then
    results = response.json()["results"]
    assert (results[0]["status"], results[0]["replayed"]) == (200, True)
    assert (results[1]["status"], results[1]["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert (results[2]["status"], results[2]["error"]["message"]) == (
        400,
        "idempotency_key: Ensure this field has no more than 255 characters.",
    )
    assert account_balances(account).spendable == 10


def test_a_whole_batch_may_carry_an_idempotency_key(writer, member):
    # given
    account = member()
    body = {
        "events": [
            {"customer": "C1001", "action": "point_add", "data": {"points": 10}},
            {"customer": "C1001", "action": "point_add", "data": {"points": "ten"}},
        ]
    }
    first = writer.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")

    # when
    again = writer.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    reused = writer.post(BULK, {"events": body["events"] * 2}, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")

    # then
    assert again.json() == first.json()
    assert [result["status"] for result in again.json()["results"]] == [200, 400]
    assert again["Idempotent-Replayed"] == "true"
    assert (reused.status_code, reused.json()["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert account_balances(account).spendable == 10
