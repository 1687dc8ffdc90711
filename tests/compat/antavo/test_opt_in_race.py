"""Two opt_ins of the same new Antavo id at once (a till retrying while its first request still runs), on
PostgreSQL: one customer, one link, and both answered 200 with it, however the two interleave."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from crm.models import Customer, ExternalCustomerId
from crm.services.api_clients import api_client_create
from loyalty.models import LoyaltyAccount
from tests.compat.antavo.conftest import CUSTOMER_ID, EVENTS
from tests.compat.antavo.golden import request_of

# transaction=True: the threads' own connections must see each other's committed rows.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 20  # seconds; only reached when something is broken


@pytest.fixture
def second_validated_after_first_commits(monkeypatch):
    """run(second, first): `second` has found no customer with the id and is creating one; it waits before
    validating it until `first` has run to the end (committed). Returns both responses."""
    full_clean = Customer.full_clean
    checked, first_done = threading.Event(), threading.Event()
    waiting_thread = {}

    def full_clean_after_the_other(customer, *args, **kwargs):
        if threading.current_thread() is waiting_thread.get("thread") and not first_done.is_set():
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


@pytest.mark.parametrize("data", [request_of("opt_in")["data"], {"first_name": "Sally"}], ids=["email", "no_email"])
def test_two_opt_ins_of_one_new_id_make_one_customer_and_both_answer_it(
    on_postgres, settings, second_validated_after_first_commits, data
):
    # given
    settings.COMPAT_ANTAVO_ALLOW_UNSIGNED = True
    _client, key = api_client_create(name="antavo-till", scopes=["loyalty:write"])

    def opt_in():
        return APIClient().post(
            f"{EVENTS}?api_key={key}", {"customer": CUSTOMER_ID, "action": "opt_in", "data": data}, format="json"
        )

    # when
    first, second = second_validated_after_first_commits(opt_in, opt_in)

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["id"] == second.json()["id"] == CUSTOMER_ID
    assert Customer.objects.count() == 1
    assert list(ExternalCustomerId.objects.values_list("external_id", flat=True)) == [CUSTOMER_ID]
    assert LoyaltyAccount.objects.get().state == "enrolled"
