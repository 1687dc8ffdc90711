"""Retries over a flaky store network: checkouts are idempotent by transaction id, every other event by its
Idempotency-Key. (The concurrent duplicate is in test_events_concurrency.py, on PostgreSQL.)"""

import pytest

import loyalty.services.events as events_service
from core.models import IdempotencyRecord
from crm.models import Customer, Store
from loyalty.models import PointsEntry, Purchase
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import BULK, EVENTS, NOW, post_event, row_counts

pytestmark = pytest.mark.django_db
writer = support.writer
member = support.member

CHECKOUT = {"transaction_id": "T1", "total": "100.00", "items": [{"product_id": "443", "subtotal": "100.00"}]}


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_the_same_checkout_again_answers_exactly_the_first_response_and_writes_nothing(writer, member):
    # given
    member()
    first = post_event(writer, "checkout", data=CHECKOUT)
    post_event(writer, "point_add", data={"points": 5})
    before = row_counts()

    # when
    again = post_event(writer, "checkout", data=dict(reversed(CHECKOUT.items())))

    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.json()["spendable"] == 100
    assert (first.headers.get("Idempotent-Replayed"), again["Idempotent-Replayed"]) == (None, "true")
    assert row_counts() == before


def test_a_different_checkout_with_the_same_transaction_id_is_a_conflict_and_writes_nothing(writer, member):
    # given
    member()
    post_event(writer, "checkout", data=CHECKOUT)
    before = row_counts()

    # when
    response = post_event(writer, "checkout", data={**CHECKOUT, "total": "100.01"})

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": "Transaction T1 already exists with different content.",
        "code": "ERR_TX_ALREADY_EXISTS",
        "extra": {"field": "transaction_id"},
    }
    assert row_counts() == before


def test_the_same_transaction_id_for_another_customer_is_a_conflict(writer, member, customer_factory):
    # given
    member()
    post_event(writer, "checkout", data=CHECKOUT)
    writer.post(EVENTS, {"action": "opt_in", "data": {"email": "ann@example.com"}}, format="json")
    other = Customer.objects.get(email="ann@example.com").public_id
    before = row_counts()

    # when
    response = post_event(writer, "checkout", customer=other, data=CHECKOUT)

    # then
    assert (response.status_code, response.json()["code"]) == (409, "ERR_TX_ALREADY_EXISTS")
    assert row_counts() == before


@pytest.fixture
def lookup_before_the_other_till(monkeypatch):
    """The replay check runs before another till's identical checkout commits: it finds nothing recorded."""

    def nothing_recorded(transaction_id):
        return events_service.CheckoutsKnown(looked_up={transaction_id}, recorded={})

    monkeypatch.setattr(events_service, "_checkout_known", nothing_recorded)


def test_a_checkout_recorded_by_another_till_after_the_replay_check_answers_the_first_response(
    writer, member, lookup_before_the_other_till
):
    # given: the other till's checkout was recorded first
    member()
    first = post_event(writer, "checkout", data=CHECKOUT)
    before = row_counts()

    # when
    again = post_event(writer, "checkout", data=CHECKOUT)

    # then: the unique transaction id caught it
    assert (again.status_code, again["Idempotent-Replayed"], again.json()) == (200, "true", first.json())
    assert row_counts() == before


def test_a_different_checkout_recorded_by_another_till_after_the_replay_check_is_a_conflict(
    writer, member, lookup_before_the_other_till
):
    # given
    member()
    post_event(writer, "checkout", data=CHECKOUT)
    before = row_counts()

    # when
    response = post_event(writer, "checkout", data={**CHECKOUT, "total": "100.01"})

    # then
    assert (response.status_code, response.json()["code"]) == (409, "ERR_TX_ALREADY_EXISTS")
    assert row_counts() == before


def test_a_checkout_of_a_customer_erased_since_answers_gone_and_writes_nothing(writer, member):
    # given
    member()
    post_event(writer, "checkout", data=CHECKOUT)
    Customer.objects.filter(public_id="C1001").update(status=Customer.Status.ERASED)
    before = row_counts()

    # when
    replayed = post_event(writer, "checkout", data=CHECKOUT)
    new = post_event(writer, "checkout", data={**CHECKOUT, "transaction_id": "T2"})
    in_bulk = writer.post(
        BULK, {"events": [{"customer": "C1001", "action": "checkout", "data": CHECKOUT}]}, format="json"
    )

    # then
    assert [response.status_code for response in (replayed, new)] == [410, 410]
    assert replayed.json()["code"] == new.json()["code"] == "CUSTOMER_ERASED"
    assert in_bulk.json()["results"][0]["status"] == 410
    assert row_counts() == before


def test_a_transaction_id_twice_in_one_bulk_is_recorded_once_and_the_second_is_a_replay(writer, member):
    # given
    member()
    event = {"customer": "C1001", "action": "checkout", "data": CHECKOUT}
    different = {"customer": "C1001", "action": "checkout", "data": {**CHECKOUT, "total": "100.01"}}

    # when
    response = writer.post(BULK, {"events": [event, event, different]}, format="json")

    # then
    first, second, third = response.json()["results"]
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert {**second, "index": 0, "replayed": False} == first
    assert (third["status"], third["error"]["code"]) == (409, "ERR_TX_ALREADY_EXISTS")
    assert Purchase.objects.count() == 1
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN).count() == 1


def test_a_store_first_named_by_a_refused_checkout_of_a_bulk_is_recorded_by_the_next_one(writer, member):
    # given: the first checkout burns points the member does not have
    member()
    refused = {"customer": "C1001", "action": "checkout", "data": {**CHECKOUT, "points_burned": 5, "store_id": "S9"}}
    accepted = {
        "customer": "C1001",
        "action": "checkout",
        "data": {**CHECKOUT, "transaction_id": "T2", "store_id": "S9"},
    }
    again = {"customer": "C1001", "action": "checkout", "data": {**CHECKOUT, "transaction_id": "T3", "store_id": "S9"}}

    # when
    response = writer.post(BULK, {"events": [refused, accepted, again]}, format="json")

    # then
    assert [result["status"] for result in response.json()["results"]] == [409, 200, 200]
    assert list(Store.objects.filter(code="S9").values_list("code", flat=True)) == ["S9"]
    assert list(Purchase.objects.order_by("id").values_list("transaction_id", "store__code")) == [
        ("T2", "S9"),
        ("T3", "S9"),
    ]


def test_checkout_ignores_the_idempotency_key_header(writer, member):
    # given
    member()

    # when
    first = post_event(writer, "checkout", data=CHECKOUT, HTTP_IDEMPOTENCY_KEY="k-1")
    second = post_event(writer, "checkout", data={**CHECKOUT, "transaction_id": "T2"}, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert (Purchase.objects.count(), IdempotencyRecord.objects.count()) == (2, 0)


def test_the_same_key_and_body_replays_the_stored_response_and_writes_nothing(writer, member):
    # given
    account = member()
    first = post_event(writer, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="till-7-0042")
    before = row_counts()

    # when
    again = post_event(writer, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="till-7-0042")

    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert row_counts() == before
    assert PointsEntry.objects.filter(account=account).count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.state, record.response_status, record.response_body) == (
        "till-7-0042",
        "completed",
        200,
        first.json(),
    )


def test_the_same_key_with_a_different_body_is_refused_and_writes_nothing(writer, member):
    # given
    member()
    post_event(writer, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="till-7-0042")
    before = row_counts()

    # when
    response = post_event(writer, "point_add", data={"points": 26}, HTTP_IDEMPOTENCY_KEY="till-7-0042")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": "This idempotency key was already used for a different request.",
        "code": "IDEMPOTENCY_KEY_REUSED",
        "extra": {"field": "Idempotency-Key"},
    }
    assert row_counts() == before


def test_a_request_refused_with_a_key_can_be_retried_with_that_key(writer, member):
    # given
    member(points=10)
    refused = post_event(writer, "point_sub", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="k-1")
    post_event(writer, "point_add", data={"points": 20})

    # when
    retried = post_event(writer, "point_sub", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert (refused.status_code, refused.json()["code"]) == (409, "INSUFFICIENT_POINTS")
    assert (retried.status_code, retried.json()["spendable"]) == (200, 0)
    assert "Idempotent-Replayed" not in retried


def test_a_key_is_kept_24_hours_then_it_is_a_new_request(writer, member, time_machine):
    # given
    member()
    post_event(writer, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="k-1")
    time_machine.shift(24 * 3600 - 1)
    replayed = post_event(writer, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="k-1")
    time_machine.shift(1)

    # when
    response = post_event(writer, "point_add", data={"points": 30}, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert replayed["Idempotent-Replayed"] == "true"
    assert (response.status_code, response.json()["spendable"]) == (200, 55)


def test_keys_of_different_api_clients_do_not_collide(writer, member, make_api_client):
    # given
    member()
    other_till, _key = make_api_client("loyalty:write")
    post_event(writer, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="k-1")

    # when
    response = post_event(other_till, "point_add", data={"points": 25}, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert (response.status_code, response.json()["spendable"]) == (200, 50)
    assert "Idempotent-Replayed" not in response


def test_a_sign_up_retried_with_its_key_answers_the_same_new_customer(writer, deterministic_ids):
    # given
    data = {"email": "sally@example.com", "first_name": "Sally"}
    first = post_event(writer, "opt_in", customer=None, data=data, HTTP_IDEMPOTENCY_KEY="signup-1")

    # when
    again = post_event(writer, "opt_in", customer=None, data=data, HTTP_IDEMPOTENCY_KEY="signup-1")
    without_key = post_event(writer, "opt_in", customer=None, data=data)

    # then
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert (without_key.status_code, without_key.json()["code"]) == (409, "EMAIL_ALREADY_IN_USE")
    assert Customer.objects.count() == 1
