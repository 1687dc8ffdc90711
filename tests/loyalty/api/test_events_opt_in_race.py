"""Two opt_ins giving the same new email at the same moment, on PostgreSQL (each thread has its own connection):
the one that comes second is 409 EMAIL_ALREADY_IN_USE, however the two interleave, never 400 validation_error."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from crm.models import Customer
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import post_event, row_counts

# transaction=True: the threads' own connections must see each other's committed rows.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
member = support.member

WAIT = 20  # seconds; only reached when something is broken


def http_client(key):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return http


@pytest.fixture
def validated_after_the_other_commits(monkeypatch):
    """run(second, first): `second` passes the email check, then waits before validating its customer until
    `first` has run to the end (committed); returns second's response."""
    full_clean = Customer.full_clean
    checked, first_done = threading.Event(), threading.Event()
    waiting_thread = {}

    def full_clean_after_the_other(customer, *args, **kwargs):
        if threading.current_thread() is waiting_thread.get("thread"):
            checked.set()
            assert first_done.wait(WAIT)
        return full_clean(customer, *args, **kwargs)

    monkeypatch.setattr(Customer, "full_clean", full_clean_after_the_other)

    def run(second, first):
        response = {}

        def send_second():
            try:
                response["second"] = second()
            finally:
                connection.close()

        thread = threading.Thread(target=send_second)
        waiting_thread["thread"] = thread
        thread.start()
        assert checked.wait(WAIT)
        response["first"] = first()
        first_done.set()
        thread.join(WAIT)
        return response["first"], response["second"]

    return run


EMAIL_IN_USE = {
    "message": "This email address is already used by another customer.",
    "code": "EMAIL_ALREADY_IN_USE",
}


def test_a_sign_up_beaten_to_the_email_by_another_is_409(
    on_postgres, make_api_client, validated_after_the_other_commits
):
    # given
    _http, key = make_api_client("loyalty:write")
    before = row_counts()

    def sign_up(first_name):
        data = {"email": "ann@example.com", "first_name": first_name}
        return lambda: post_event(http_client(key), "opt_in", customer=None, data=data)

    # when
    first, second = validated_after_the_other_commits(sign_up("Second"), sign_up("First"))

    # then
    winner = Customer.objects.get(email="ann@example.com")
    assert (first.status_code, winner.first_name) == (200, "First")
    assert second.status_code == 409
    assert second.json() == {**EMAIL_IN_USE, "extra": {"field": "email", "customer_id": winner.public_id}}
    assert row_counts() == {**before, "customers": before["customers"] + 1, "accounts": before["accounts"] + 1}


def test_an_opt_in_of_a_member_beaten_to_the_email_by_a_sign_up_is_409(
    on_postgres, make_api_client, member, validated_after_the_other_commits
):
    # given
    member()
    _http, key = make_api_client("loyalty:write")
    before = row_counts()

    def opt_in_with_new_email():
        return post_event(http_client(key), "opt_in", data={"email": "ann@example.com"})

    def sign_up():
        return post_event(http_client(key), "opt_in", customer=None, data={"email": "ann@example.com"})

    # when
    first, second = validated_after_the_other_commits(opt_in_with_new_email, sign_up)

    # then
    winner = Customer.objects.get(email="ann@example.com")
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json() == {**EMAIL_IN_USE, "extra": {"field": "email", "customer_id": winner.public_id}}
    assert Customer.objects.get(public_id="C1001").email == "sally@example.com"
    assert row_counts() == {**before, "customers": before["customers"] + 1, "accounts": before["accounts"] + 1}
