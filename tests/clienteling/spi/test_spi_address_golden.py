"""Golden payloads of the Customer Address SPI (clienteling/spi/address_views.py) and of the address items of
UPDATE_CUSTOMER and CREATE_CUSTOMER: each file's request against the state its `given` requests leave, and the exact
response. A refused request must leave the database as it found it."""

import json

import pytest
import time_machine

from core.models import IdempotencyRecord
from crm.models import Address, Customer
from loyalty.models import LoyaltyAccount
from tests.clienteling.golden import assert_matches_golden, load
from webhooks.models import WebhookEvent

NOW = "2026-11-22T10:00:00+00:00"
GOLDEN = [
    "address_get_list",
    "address_get_one",
    "address_get_unknown_address",
    "address_get_unknown_customer",
    "address_get_missing_customer_id",
    "address_create",
    "address_create_wrapped_query_id",
    "address_create_country_name",
    "address_create_empty",
    "address_create_missing_address",
    "address_create_missing_customer_id",
    "address_create_unknown_customer",
    "address_update",
    "address_update_query_ids",
    "address_update_unknown_address",
    "address_update_missing_address_id",
    "address_update_duplicate",
    "address_delete",
    "address_delete_body",
    "address_delete_unknown_address",
    "address_delete_missing_address_id",
    "update_customer_address_in_place",
    "update_customer_unknown_address_id",
    "signup_address_only_in_address_list",
    "signup_address_country_name",
]


def _call(http, payload):
    method = getattr(http, payload["method"].lower())
    if payload["request"] is None:
        return method(payload["path"])
    return method(payload["path"], data=json.dumps(payload["request"]), content_type="application/json")


def database_state():
    """Every row an address request could write: addresses, customers, loyalty addresses, outbox, keys."""
    return (
        list(Address.objects.order_by("pk").values()),
        list(Customer.objects.order_by("pk").values()),
        list(LoyaltyAccount.objects.order_by("pk").values_list("pk", "address_id")),
        WebhookEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.mark.parametrize("name", GOLDEN)
@pytest.mark.usefixtures("deterministic_ids")
def test_address_payload_matches_golden_file(name, pos_client):
    # given
    payload = load(name)
    with time_machine.travel(NOW, tick=False):
        for given in payload.get("given", []):
            assert _call(pos_client, load(given)).status_code == 200
        before = database_state()

        # when
        response = _call(pos_client, payload)

    # then
    body = response.json() if response.content else None
    assert_matches_golden(name, response.status_code, body)
    if response.status_code >= 400:
        assert database_state() == before
