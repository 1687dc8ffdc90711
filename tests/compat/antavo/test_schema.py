"""The Antavo adapter in the OpenAPI document: its four operations tagged "Antavo", their errors in Antavo's
envelope, and real answers valid against what is documented."""

import pytest

from tests.compat.antavo.conftest import CUSTOMER_ID, EVENTS
from tests.compat.antavo.golden import request_of
from tests.test_openapi import _body_errors, _operations, _schema

pytestmark = pytest.mark.django_db


def test_the_four_antavo_operations_are_tagged_antavo_at_antavo_paths(client):
    # when
    operations = _operations(_schema(client))

    # then
    antavo = {
        operation_id: operation for operation_id, operation in operations.items() if "Antavo" in operation["tags"]
    }
    assert sorted(antavo) == [
        "antavo_customer_coupon_list",
        "antavo_customer_get",
        "antavo_event_bulk_create",
        "antavo_event_create",
    ]
    for operation_id, operation in antavo.items():
        assert operation["tags"] == ["Antavo"], operation_id
        for status in ("401", "403", "429"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/AntavoErrorOutput"}, (operation_id, status)
        assert {"antavoApiKeyQuery": []} in operation["security"], operation_id
        assert {"antavoEscher": []} in operation["security"], operation_id


def test_answers_match_their_documented_schemas(client, antavo, deterministic_ids):
    # given
    schema = _schema(client)
    antavo.post(EVENTS, request_of("opt_in"))
    antavo.post(EVENTS, {"customer": CUSTOMER_ID, "action": "point_add", "data": {"points": 20}})

    # when
    checkout = antavo.post(EVENTS, request_of("checkout"))
    customer = antavo.get(f"/compat/antavo/customers/{CUSTOMER_ID}")
    coupons = antavo.get(f"/compat/antavo/customers/{CUSTOMER_ID}/coupons")
    missing = antavo.get("/compat/antavo/customers/nobody")

    # then
    assert _body_errors(schema, "/compat/antavo/events", "post", 200, checkout.json()) == []
    path = "/compat/antavo/customers/{customer_id}"
    assert _body_errors(schema, path, "get", 200, customer.json()) == []
    assert _body_errors(schema, path + "/coupons", "get", 200, coupons.json()) == []
    assert _body_errors(schema, path, "get", 404, missing.json()) == []
