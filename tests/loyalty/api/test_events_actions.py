"""POST /api/v1/events: every action's happy path, with the exact answer."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm.models import ConsentChange, Customer
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import NOW, new_entry_ids, post_event, summary, transaction_summary

pytestmark = pytest.mark.django_db
member = support.member
writer = support.writer


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_opt_in_without_customer_signs_a_new_customer_up_and_enrols_them(writer, deterministic_ids):
    # given
    data = {
        "email": " Sally@Example.com",
        "first_name": "Sally",
        "last_name": "Thompson",
        "mobile_phone": "(217) 555-0100",
        "language": "en",
        "birth_date": "1989-05-02",
        "store_id": "S001",
    }

    # when
    response = post_event(writer, "opt_in", customer=None, data=data)

    # then
    assert response.status_code == 200
    assert response.json() == summary(id="C000000000001", events=[])
    customer = Customer.objects.get(public_id="C000000000001")
    assert (customer.phone_mobile, customer.birthday, customer.created_store.code) == (
        "+12175550100",
        date(1989, 5, 2),
        "S001",
    )
    assert customer.consents.loyalty_sign_up is True
    account = LoyaltyAccount.objects.get(customer=customer)
    assert (account.state, account.enrolled_store.code) == ("enrolled", "S001")
    assert ConsentChange.objects.get(customer=customer).channel == "api"


def test_opt_in_of_an_existing_customer_enrols_them_and_merges_the_profile(writer, customer_factory, deterministic_ids):
    # given
    customer_factory(
        public_id="C1001", first_name="Sally", last_name="Thompson", email="sally@example.com", preferred_language="en"
    )

    # when
    response = post_event(writer, "opt_in", data={"language": "de"})

    # then
    assert response.status_code == 200
    assert response.json() == summary(language="de", events=[])
    assert LoyaltyAccount.objects.get(customer__public_id="C1001").state == "enrolled"


def test_opt_in_of_an_enrolled_customer_changes_nothing(writer, member):
    # given
    account = member(points=30)

    # when
    response = post_event(writer, "opt_in")

    # then
    assert response.status_code == 200
    assert response.json() == summary(spendable=30, score=30, events=[])
    assert LoyaltyAccount.objects.get(pk=account.pk).enrolled_at == account.enrolled_at


def test_opt_out_makes_the_account_a_guest_and_keeps_its_points(writer, member):
    # given
    account = member(points=50)

    # when
    response = post_event(writer, "opt_out", data={"reason": "moving abroad"})

    # then
    assert response.status_code == 200
    assert response.json() == summary(state="guest", spendable=50, score=50, events=[])
    account.refresh_from_db()
    assert (account.state, account.opted_out_at) == ("guest", datetime(2026, 6, 24, 10, 15, tzinfo=UTC))
    assert account.customer.consents.loyalty_sign_up is False


def test_opt_in_after_opt_out_enrols_again_with_the_points_kept(writer, member):
    # given
    account = member(points=50)
    post_event(writer, "opt_out")

    # when
    response = post_event(writer, "opt_in")

    # then
    assert response.status_code == 200
    assert response.json() == summary(spendable=50, score=50, events=[])
    account.refresh_from_db()
    assert (account.state, account.opted_out_at) == ("enrolled", None)


def test_points_do_not_move_on_an_opted_out_account(writer, member):
    # given
    member(points=50)
    post_event(writer, "opt_out")
    entries = PointsEntry.objects.count()

    # when
    add = post_event(writer, "point_add", data={"points": 10})
    checkout = post_event(writer, "checkout", data={"transaction_id": "T1", "total": "10"})

    # then
    assert (add.status_code, add.json()["code"]) == (409, "NOT_ENROLLED")
    assert (checkout.status_code, checkout.json()["code"]) == (409, "NOT_ENROLLED")
    assert (PointsEntry.objects.count(), Purchase.objects.count()) == (entries, 0)


def test_profile_merges_only_the_fields_sent(writer, member):
    # given
    member()

    # when
    response = post_event(
        writer, "profile", data={"last_name": "Jones", "email": "SALLY.JONES@example.com", "birth_date": None}
    )

    # then
    assert response.status_code == 200
    assert response.json() == summary(last_name="Jones", email="sally.jones@example.com", events=[])
    customer = Customer.objects.get(public_id="C1001")
    assert (customer.first_name, customer.phone_mobile, customer.birthday) == ("Sally", "+12175550100", None)


def test_profile_of_a_customer_without_loyalty_account_answers_them_as_guest(writer, customer_factory):
    # given
    customer_factory(public_id="C2002", first_name="Ann", last_name="Lee", email="ann@example.com")

    # when
    response = post_event(writer, "profile", customer="C2002", data={"first_name": "Anne"})

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": "C2002",
        "status": "active",
        "first_name": "Anne",
        "last_name": "Lee",
        "email": "ann@example.com",
        "language": "",
        "state": "guest",
        "events": [],
    }


def test_checkout_with_items_burns_then_earns_and_answers_both_events(writer, member):
    # given
    account = member(points=50, points_expiry_days=365)
    data = {
        "transaction_id": "T1",
        "total": 100,
        "points_burned": 20,
        "store_id": "S001",
        "channel": "pos",
        "currency": "usd",
        "items": [
            {"product_id": "443", "product_name": "Black jeans", "price": "55", "quantity": 1, "discount": "5"},
            {"product_id": "543", "product_name": "Blue jeans", "category": "denim", "subtotal": "50.00"},
        ],
    }

    # when
    response = post_event(writer, "checkout", data=data)

    # then
    assert response.status_code == 200
    burn, earn = new_entry_ids(account, 2)
    assert response.json() == summary(
        spendable=130,
        spent=20,
        score=150,
        events=[
            {"id": burn, "action": "checkout", "kind": "burn", "points": -20, "expdate": "2027-06-24"},
            {"id": earn, "action": "checkout", "kind": "earn", "points": 100, "expdate": "2027-06-24"},
        ],
        transaction=transaction_summary(points_burned=20, store_id="S001", channel="pos"),
    )
    purchase = Purchase.objects.get(transaction_id="T1")
    assert purchase.items == [
        {
            "product_id": "443",
            "product_name": "Black jeans",
            "price": "55.00",
            "quantity": "1.000",
            "discount": "5.00",
            "subtotal": "50.00",
        },
        {
            "product_id": "543",
            "product_name": "Blue jeans",
            "category": "denim",
            "subtotal": "50.00",
            "quantity": "1.000",
            "discount": "0.00",
        },
    ]
    assert purchase.first_response == response.json()


def test_backdated_checkout_keeps_its_purchase_time(writer, member):
    # given
    member()

    # when
    response = post_event(
        writer, "checkout", data={"transaction_id": "T1", "total": "100.00", "effective_timestamp": 1719252448}
    )

    # then
    assert response.json()["transaction"]["purchased_at"] == "2024-06-24T18:07:28Z"


def test_pending_checkout_answers_no_events_and_shows_the_points_as_pending(writer, member):
    # given
    member(pending_days=14)

    # when
    response = post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00"})

    # then
    assert response.status_code == 200
    assert response.json() == summary(
        pending=100,
        events=[],
        transaction=transaction_summary(state="pending", confirm_at="2026-07-08T10:15:00Z"),
    )


def test_checkout_accept_confirms_the_pending_points(writer, member):
    # given
    account = member(pending_days=14, points_expiry_days=365)
    post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00"})

    # when
    response = post_event(writer, "checkout_accept", data={"transaction_id": "T1"})

    # then
    assert response.status_code == 200
    (lot,) = new_entry_ids(account, 1)
    assert response.json() == summary(
        spendable=100,
        score=100,
        events=[{"id": lot, "action": "checkout_accept", "kind": "earn", "points": 100, "expdate": "2027-06-24"}],
        transaction=transaction_summary(),
    )


def test_checkout_reject_cancels_the_pending_points_and_gives_back_the_burned_ones(writer, member):
    # given
    account = member(points=50, pending_days=14)
    post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00", "points_burned": 20})

    # when
    response = post_event(writer, "checkout_reject", data={"transaction_id": "T1"})

    # then
    assert response.status_code == 200
    (given_back,) = new_entry_ids(account, 1)
    assert response.json() == summary(
        spendable=50,
        spent=20,
        score=50,
        events=[{"id": given_back, "action": "checkout_reject", "kind": "refund", "points": 20, "expdate": None}],
        transaction=transaction_summary(state="rejected", points_burned=20, points_returned=20),
    )


def test_refund_takes_back_the_points_earned(writer, member):
    # given
    account = member()
    post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00"})

    # when
    response = post_event(writer, "refund", data={"transaction_id": "T1"})

    # then
    assert response.status_code == 200
    (taken_back,) = new_entry_ids(account, 1)
    assert response.json() == summary(
        score=100,
        events=[{"id": taken_back, "action": "refund", "kind": "refund", "points": -100, "expdate": None}],
        transaction=transaction_summary(state="refunded", refunded_total="100.00", points_taken_back=100),
    )


def test_partial_refund_takes_back_the_points_of_the_amount_refunded(writer, member):
    # given
    account = member()
    post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00"})

    # when
    response = post_event(writer, "partial_refund", data={"transaction_id": "T1", "amount": "25.50"})

    # then
    assert response.status_code == 200
    (taken_back,) = new_entry_ids(account, 1)
    assert response.json() == summary(
        spendable=75,
        score=100,
        events=[{"id": taken_back, "action": "partial_refund", "kind": "refund", "points": -25, "expdate": None}],
        transaction=transaction_summary(state="partially_refunded", refunded_total="25.50", points_taken_back=25),
    )


def test_point_add_gives_points_that_expire_like_earned_ones(writer, member):
    # given
    account = member(points_expiry_days=30)

    # when
    response = post_event(writer, "point_add", data={"points": 325, "reason": "Welcome gift"})

    # then
    assert response.status_code == 200
    (lot,) = new_entry_ids(account, 1)
    assert response.json() == summary(
        spendable=325,
        score=325,
        events=[{"id": lot, "action": "point_add", "kind": "adjust", "points": 325, "expdate": "2026-07-24"}],
    )
    entry = PointsEntry.objects.get(pk=lot)
    assert (entry.source, entry.note) == ("event", "Welcome gift")


def test_point_sub_takes_points_from_the_first_expiring_lots(writer, member):
    # given
    account = member(points=30, points_expiry_days=30)
    with_later_expiry = PointsEntry.objects.get(account=account).pk
    post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00"})
    PointsEntry.objects.filter(pk=with_later_expiry).update(expires_at=datetime(2026, 7, 1, tzinfo=UTC))

    # when
    response = post_event(writer, "point_sub", data={"points": 40})

    # then
    assert response.status_code == 200
    first, second = new_entry_ids(account, 2)
    assert response.json() == summary(
        spendable=90,
        score=130,
        events=[
            {"id": first, "action": "point_sub", "kind": "adjust", "points": -30, "expdate": "2026-07-01"},
            {"id": second, "action": "point_sub", "kind": "adjust", "points": -10, "expdate": "2026-07-24"},
        ],
    )


def test_reserve_points_holds_them_and_release_points_gives_them_back(writer, member):
    # given
    account = member(points=100)

    # when
    reserved = post_event(writer, "reserve_points", data={"transaction_id": "PAY-1", "points": 60})
    (held,) = new_entry_ids(account, 2)[:1]
    released = post_event(writer, "release_points", data={"transaction_id": "PAY-1"})

    # then
    assert reserved.status_code == 200
    assert reserved.json() == summary(
        spendable=40,
        reserved=60,
        score=100,
        events=[{"id": held, "action": "reserve_points", "kind": "reserve", "points": -60, "expdate": None}],
    )
    (given_back,) = new_entry_ids(account, 1)
    assert released.status_code == 200
    assert released.json() == summary(
        spendable=100,
        score=100,
        events=[{"id": given_back, "action": "release_points", "kind": "release", "points": 60, "expdate": None}],
    )


def test_checkout_spends_the_points_reserved_for_its_transaction(writer, member):
    # given
    member(points=100)
    post_event(writer, "reserve_points", data={"transaction_id": "T1", "points": 60})

    # when
    response = post_event(writer, "checkout", data={"transaction_id": "T1", "total": "0", "points_burned": 50})

    # then
    body = response.json()
    assert (body["spendable"], body["reserved"], body["spent"]) == (50, 0, 50)
    assert [(event["kind"], event["points"]) for event in body["events"]] == [("release", 10)]


def test_a_refund_of_another_customers_transaction_is_not_found(
    writer, member, customer_factory, loyalty_account_factory
):
    # given
    member()
    post_event(writer, "checkout", data={"transaction_id": "T1", "total": "100.00"})
    other = customer_factory(public_id="C2002")
    loyalty_account_factory(customer=other)

    # when
    response = post_event(writer, "refund", customer="C2002", data={"transaction_id": "T1"})

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Transaction T1 not found.",
        "code": "TRANSACTION_NOT_FOUND",
        "extra": {"field": "transaction_id"},
    }
    assert Purchase.objects.get(transaction_id="T1").refunded_total == Decimal("0")
