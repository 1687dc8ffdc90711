"""The OpenAPI document describes both events endpoints, and what they answer is what it describes."""

import pytest

from loyalty.api.event_serializers import ACTIONS
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import BULK, post_event

pytestmark = pytest.mark.django_db
writer = support.writer
member = support.member


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_both_endpoints_are_documented_with_examples_under_one_tag(schema):
    # when
    single = schema["paths"]["/api/v1/events"]["post"]
    bulk = schema["paths"]["/api/v1/events/bulk"]["post"]

    # then
    assert (single["operationId"], single["tags"]) == ("event_create", ["Loyalty events"])
    assert (bulk["operationId"], bulk["tags"]) == ("event_bulk_create", ["Loyalty events"])
    for operation in (single, bulk):
        assert [parameter["name"] for parameter in operation["parameters"]] == ["Idempotency-Key"]
        assert operation["requestBody"]["content"]["application/json"]["examples"]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert set(single["responses"]) == {"200", "400", "401", "403", "404", "409", "410", "422", "429"}
    assert single["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOutput"
    }


def test_the_request_is_one_shape_per_action_told_apart_by_action(schema):
    # when
    components = schema["components"]["schemas"]
    request = components["EventRequest"]

    # then
    assert request["discriminator"]["propertyName"] == "action"
    assert list(request["discriminator"]["mapping"]) == list(ACTIONS)
    checkout = components["CheckoutEventRequest"]
    assert checkout["required"] == ["action", "customer", "data"]
    assert set(components["CheckoutDataRequest"]["required"]) == {"transaction_id", "total"}
    assert "customer" not in components["OptInEventRequest"]["required"]


def test_what_the_endpoints_answer_is_what_the_schema_describes(schema, writer, member):
    # given
    member(points=50)
    components = schema["components"]["schemas"]
    checkout = {"transaction_id": "T1", "total": "10.00", "points_burned": 5}

    # when
    single = post_event(writer, "checkout", data=checkout).json()
    bulk = writer.post(
        BULK, {"events": [{"customer": "C1001", "action": "point_add", "data": {"points": 5}}, 7]}, format="json"
    ).json()

    # then
    assert set(single) <= set(components["EventOutput"]["properties"])
    assert set(components["EventOutput"]["required"]) <= set(single)
    assert set(single["transaction"]) == set(components["TransactionOutput"]["properties"])
    assert {key for event in single["events"] for key in event} == set(components["EventEntryOutput"]["properties"])
    assert set(bulk) == set(components["EventBulkOutput"]["properties"])
    assert {key for result in bulk["results"] for key in result} <= set(
        components["EventBulkResultOutput"]["properties"]
    )
    assert set(bulk["results"][1]["error"]) == set(components["ErrorOutput"]["properties"])
