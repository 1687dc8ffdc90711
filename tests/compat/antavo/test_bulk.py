"""POST /compat/antavo/events/bulk: Antavo's `{"events": [...]}`, processed one by one, results per event."""

import pytest

from crm.models import Customer
from loyalty.models import PointsEntry, Purchase
from tests.compat.antavo.conftest import BULK, CUSTOMER_ID
from tests.compat.antavo.golden import request_of

pytestmark = pytest.mark.django_db


def test_bulk_processes_events_in_order_and_a_bad_one_fails_alone(antavo, deterministic_ids):
    # given
    events = [
        request_of("opt_in"),
        {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 20}},
        {"customer": CUSTOMER_ID, "action": "checkout", "data": {"transaction_id": "T-2"}},
        request_of("checkout"),
        {"customer": "unknown", "action": "point_add", "data": {"points": 5}},
    ]

    # when
    response = antavo.post(BULK, {"events": events})

    # then
    assert response.status_code == 200
    body = response.json()
    entries = {entry.points: str(entry.pk) for entry in PointsEntry.objects.all()}
    assert body == {
        "results": [
            {"events": []},
            {"events": [{"id": entries[20], "action": "point_add", "points": 20}]},
            {
                "error": {
                    "type": "BadRequestException",
                    "code": 113401,
                    "message": "Missing required parameter 'data.total'",
                    "reason": "validation_error",
                }
            },
            {
                "events": [
                    {"id": entries[-20], "action": "point_spend", "points": -20},
                    {"id": entries[100], "action": "checkout", "points": 100},
                ]
            },
            {
                "error": {
                    "type": "NotFoundException",
                    "code": 160212,
                    "message": "Customer not found",
                    "reason": "CUSTOMER_NOT_FOUND",
                }
            },
        ],
        "total": 5,
        "errors": 2,
    }
    assert Customer.objects.count() == 1
    assert list(Purchase.objects.values_list("transaction_id", flat=True)) == ["5875-9373-2618-7461-9237"]


def test_bulk_without_an_events_list_is_400_and_writes_nothing(antavo):
    # when
    response = antavo.post(BULK, {"events": "opt_in"})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "BadRequestException"
    assert Customer.objects.count() == 0


def test_a_bulk_sent_twice_counts_each_checkout_once(antavo, deterministic_ids):
    # given
    events = [
        request_of("opt_in"),
        {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 20}},
        request_of("checkout"),
    ]
    antavo.post(BULK, {"events": events[:2]})

    # when
    first = antavo.post(BULK, {"events": events[2:]})
    again = antavo.post(BULK, {"events": events[2:]})

    # then
    assert again.json() == first.json()
    assert Purchase.objects.count() == 1
