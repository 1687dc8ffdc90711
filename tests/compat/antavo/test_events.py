"""POST /compat/antavo/events: Antavo's published requests, sent unchanged, get Antavo's answers and errors."""

import pytest

from crm.models import Customer, ExternalCustomerId
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from tests.compat.antavo.conftest import CUSTOMER_ID, EVENTS
from tests.compat.antavo.golden import assert_matches_golden, request_of
from tests.loyalty.api.test_events_query_budget import CHECKOUT_QUERIES as V1_CHECKOUT_QUERIES

pytestmark = pytest.mark.django_db


def row_counts():
    return {
        "customers": Customer.objects.count(),
        "links": ExternalCustomerId.objects.count(),
        "accounts": LoyaltyAccount.objects.count(),
        "purchases": Purchase.objects.count(),
        "entries": PointsEntry.objects.count(),
    }


@pytest.fixture
def sally(antavo, deterministic_ids):
    """Sally Thompson enrolled through Antavo's opt_in example, holding 20 points added by a point_add event."""
    assert antavo.post(EVENTS, request_of("opt_in")).status_code == 200
    response = antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 20}})
    assert response.status_code == 200
    return Customer.objects.get(external_ids__source="antavo", external_ids__external_id=CUSTOMER_ID)


def test_opt_in_with_an_unknown_antavo_id_creates_the_customer_links_the_id_and_enrols_them(antavo, deterministic_ids):
    # when
    response = antavo.post(EVENTS, request_of("opt_in"))

    # then
    assert_matches_golden("opt_in", response.status_code, response.json())
    customer = Customer.objects.get(public_id="C000000000001")
    assert (customer.email, customer.first_name, customer.last_name) == ("sally@example.com", "Sally", "Thompson")
    assert list(customer.external_ids.values_list("source", "external_id")) == [("antavo", CUSTOMER_ID)]
    assert LoyaltyAccount.objects.get(customer=customer).state == "enrolled"


def test_opt_in_again_with_the_same_id_acts_on_the_same_customer(antavo, sally):
    # given
    before = row_counts()

    # when
    response = antavo.post(EVENTS, {**request_of("opt_in"), "data": {"first_name": "Sal"}})

    # then
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["first_name"], response.json()["spendable"]) == (
        CUSTOMER_ID,
        "Sal",
        20,
    )
    assert row_counts() == before


def test_checkout_example_sent_unchanged_earns_burns_and_answers_antavo_event_response(antavo, sally):
    # when
    response = antavo.post(EVENTS, request_of("checkout"))

    # then
    assert_matches_golden("checkout", response.status_code, response.json())
    purchase = Purchase.objects.get(transaction_id="5875-9373-2618-7461-9237")
    assert (purchase.account.customer_id, purchase.total, purchase.points_burned) == (sally.pk, 100, 20)


def test_the_same_checkout_again_answers_the_first_response_and_writes_nothing(antavo, sally):
    # given
    first = antavo.post(EVENTS, request_of("checkout"))
    before = row_counts()

    # when
    again = antavo.post(EVENTS, request_of("checkout"))

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert row_counts() == before


def test_another_checkout_under_the_same_transaction_id_is_409_err_tx_already_exists(antavo, sally):
    # given
    antavo.post(EVENTS, request_of("checkout"))
    before = row_counts()
    changed = request_of("checkout")
    changed["data"]["total"] = 99

    # when
    response = antavo.post(EVENTS, changed)

    # then
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "type": "ConflictException",
            "code": 0,
            "message": "Transaction 5875-9373-2618-7461-9237 already exists with different content.",
            "reason": "ERR_TX_ALREADY_EXISTS",
        }
    }
    assert row_counts() == before


def test_a_customer_id_of_128_characters_is_taken_and_129_is_refused(antavo, deterministic_ids):
    # given
    longest = "x" * 128
    before = row_counts()

    # when
    too_long = antavo.post(EVENTS, {**request_of("opt_in"), "customer": longest + "y"})
    taken = antavo.post(EVENTS, {**request_of("opt_in"), "customer": longest})

    # then
    assert too_long.status_code == 400
    assert too_long.json() == {
        "error": {
            "type": "BadRequestException",
            "code": 0,
            "message": "customer: Ensure this field has no more than 128 characters.",
            "reason": "validation_error",
        }
    }
    assert taken.status_code == 200
    assert taken.json()["id"] == longest
    assert row_counts() == {**before, "customers": 1, "links": 1, "accounts": 1}


def test_an_event_for_an_unknown_customer_is_404_customer_not_found_and_writes_nothing(antavo, sally):
    # given
    before = row_counts()

    # when
    response = antavo.post(EVENTS, {**request_of("checkout"), "customer": "6c0e3c1e-0000-4000-8000-000000000000"})

    # then
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "NotFoundException",
            "code": 160212,
            "message": "Customer not found",
            "reason": "CUSTOMER_NOT_FOUND",
        }
    }
    assert row_counts() == before


def test_a_missing_required_attribute_is_antavo_113401_naming_it(antavo, sally):
    # given
    body = request_of("checkout")
    del body["data"]["total"]
    before = row_counts()

    # when
    response = antavo.post(EVENTS, body)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "type": "BadRequestException",
            "code": 113401,
            "message": "Missing required parameter 'data.total'",
            "reason": "validation_error",
        }
    }
    assert row_counts() == before


def test_burning_more_points_than_spendable_is_antavo_120241(antavo, sally):
    # given
    body = request_of("checkout")
    body["data"]["points_burned"] = 21
    before = row_counts()

    # when
    response = antavo.post(EVENTS, body)

    # then
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "BadRequestException",
        "code": 120241,
        "message": "Customer does not have enough points",
        "reason": "INSUFFICIENT_POINTS",
    }
    assert row_counts() == before


def test_an_unknown_action_is_400_naming_it(antavo, sally):
    # when
    response = antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "cehckout", "data": {}})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith('action: "cehckout" is not a supported action.')


def test_opt_out_makes_the_customer_opted_out(antavo, sally):
    # when
    response = antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "opt_out", "data": {}})

    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["events"]) == ("opted_out", [])
    assert LoyaltyAccount.objects.get(customer=sally).state == "guest"


def test_an_unknown_path_under_the_prefix_is_404_in_antavo_envelope(client):
    # when
    response = client.get("/compat/antavo/rewards")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "error": {"type": "NotFoundException", "code": 0, "message": "Not found.", "reason": "not_found"}
    }


def test_a_checkout_through_the_adapter_costs_no_more_than_one_through_api_v1(
    antavo, sally, django_assert_max_num_queries
):
    # given: the key's last use recorded, as on a till's every later request
    antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 1}})

    # when: a checkout that burns, as the seed's does
    with django_assert_max_num_queries(V1_CHECKOUT_QUERIES[101]):
        response = antavo.post(EVENTS, request_of("checkout"))

    # then
    assert response.status_code == 200


def test_an_erased_customer_is_not_found(antavo, sally):
    # given
    from crm.models import ConsentChange
    from crm.services.context import ChangeContext
    from loyalty.services.privacy import customer_erase_with_loyalty_data

    customer_erase_with_loyalty_data(customer=sally, context=ChangeContext(channel=ConsentChange.Channel.ADMIN))

    # when
    response = antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 5}})

    # then
    assert (response.status_code, response.json()["error"]["code"]) == (404, 160212)


def test_a_checkout_inside_the_return_window_answers_no_events_and_pending_points(antavo, sally, program):
    # given: points earned at checkout wait 14 days (Antavo's pending period)
    from loyalty.models import Program

    Program.objects.filter(pk=program.pk).update(pending_days=14)

    # when
    response = antavo.post(EVENTS, request_of("checkout"))

    # then: the burn is spendable points spent now; the earn is pending, so not among the events
    assert response.status_code == 200
    body = response.json()
    assert [(event["action"], event["points"]) for event in body["events"]] == [("point_spend", -20)]
    assert (body["pending"], body["spendable"], body["spent"]) == (100, 0, 20)
